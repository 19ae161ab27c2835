{#- Timeline notes (private apps cannot create timeline events): one per event of a matched
    contact whose type is flagged in_activity_feed in the event_types seed, worded by its
    activity_note_label. Learning events come from fct_learning_events, learner account events
    (signing up, first purchase, tags, ...) from int_learner_account_events.
    activity_key is stable across runs and sources, so a note is never written twice: a
    repeatable type's key is the event's event_id; a once_per_learner type's key is the
    learner and the type only (its earliest event is the note), so a changed time or source
    keeps the key. -#}
with

feed_types as (
    select
        event_type,
        activity_note_label,
        occurrence
    from {{ ref('event_types') }}
    where in_activity_feed
),

learning_events as (
    select
        event_id,
        learner_key,
        hubspot_contact_id,
        event_type,
        course_id,
        coalesce(course_name, course_id) as subject,
        score,
        occurred_at
    from {{ ref('fct_learning_events') }}
),

account_events as (
    select
        account_events.event_id,
        account_events.learner_key,
        learners.hubspot_contact_id,
        account_events.event_type,
        account_events.course_id,
        account_events.subject,
        cast(null as {{ type_double() }}) as score,
        account_events.occurred_at
    from {{ ref('int_learner_account_events') }} as account_events
    inner join {{ ref('dim_learners') }} as learners
        on account_events.learner_key = learners.learner_key
),

events as (
    select
        all_events.*,
        feed_types.activity_note_label,
        case
            when feed_types.occurrence = 'once_per_learner'
                then {{ generate_surrogate_key(['all_events.learner_key', 'all_events.event_type']) }}
            else all_events.event_id
        end as activity_key
    from (
        select * from learning_events
        union all
        select * from account_events
    ) as all_events
    inner join feed_types on all_events.event_type = feed_types.event_type
    where all_events.hubspot_contact_id is not null
),

keyed as (
    select
        *,
        row_number() over (
            partition by activity_key order by occurred_at asc, event_id asc
        ) as key_order
    from events
)

select
    keyed.activity_key,
    keyed.hubspot_contact_id,
    keyed.event_type,
    keyed.course_id,
    keyed.occurred_at as hs_timestamp,
    {{ dbt.concat([
        "activity_note_label",
        "case when subject is null then '' else " ~ dbt.concat(["' \"'", "subject", "'\"'"]) ~ " end",
        "case when score is null then '' else "
            ~ dbt.concat(["' with a score of '", dbt.safe_cast('round(score, 1)', dbt.type_string())])
            ~ " end",
        "' on '",
        utc_text('occurred_at'),
        "' (LMS)'",
    ]) }} as hs_note_body,
    -- kept and flagged: the sync's delete policy decides what a deleted learner's note does
    coalesce(learners.is_deleted_in_lms, false) as lms_deleted
from keyed
left join {{ ref('dim_learners') }} as learners on keyed.learner_key = learners.learner_key
where keyed.key_order = 1
