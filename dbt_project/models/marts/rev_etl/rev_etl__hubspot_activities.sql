{#- Timeline notes (private apps cannot create timeline events): one per event of a matched
    contact whose type is flagged in_activity_feed in the event_types seed, worded by its
    activity_note_label. activity_key = event_id, stable across runs and sources, so a note is
    never written twice. -#}
with

feed_types as (
    select
        event_type,
        activity_note_label
    from {{ ref('event_types') }}
    where in_activity_feed
),

events as (
    select
        learning_events.*,
        feed_types.activity_note_label
    from {{ ref('fct_learning_events') }} as learning_events
    inner join feed_types on learning_events.event_type = feed_types.event_type
    where learning_events.hubspot_contact_id is not null
)

select
    event_id as activity_key,
    hubspot_contact_id,
    event_type,
    course_id,
    occurred_at as hs_timestamp,
    {{ dbt.concat([
        "activity_note_label",
        "' \"'",
        "coalesce(course_name, course_id)",
        "'\"'",
        "case when score is null then '' else "
            ~ dbt.concat(["' with a score of '", dbt.safe_cast('round(score, 1)', dbt.type_string())])
            ~ " end",
        "' on '",
        utc_text('occurred_at'),
        "' (LMS)'",
    ]) }} as hs_note_body
from events
