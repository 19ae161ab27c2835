{#- Timeline notes (private apps cannot create timeline events): one per completed course or
    passed assessment of a matched contact. activity_key = event_id, stable across runs and
    sources, so a note is never written twice. -#}
with

events as (
    select * from {{ ref('fct_learning_events') }}
    where event_type in ('completed', 'assessment_passed') and hubspot_contact_id is not null
)

select
    event_id as activity_key,
    hubspot_contact_id,
    event_type,
    course_id,
    occurred_at as hs_timestamp,
    {{ dbt.concat([
        "case when event_type = 'completed' then 'Completed the course' else 'Passed an assessment in' end",
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
