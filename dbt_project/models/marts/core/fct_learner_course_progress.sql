{#- One row per learner and course with the milestones reached. Incremental by learner, like
    fct_learning_events: only the learners of int_learning_events_changed_learners are
    recomputed. -#}
-- depends_on: {{ ref('int_learning_events_changed_learners') }}

with

events as (
    select * from {{ ref('fct_learning_events') }}
    {%- if is_incremental() %}
        where learner_key in (select learner_key from {{ ref('int_learning_events_changed_learners') }})
    {%- endif %}
)

select
    {{ generate_surrogate_key(['learner_key', 'course_id']) }} as learner_course_key,
    learner_key,
    max(hubspot_contact_id) as hubspot_contact_id,
    course_id,
    max(course_name) as course_name,
    min(case when event_type = 'enrolled' then occurred_at end) as enrolled_at,
    min(case when event_type = 'completed' then occurred_at end) as completed_at,
    min(case when event_type = 'certificate_issued' then occurred_at end) as certified_at,
    min(case when event_type = 'purchase' then occurred_at end) as purchased_at,
    cast(
        sum(case when event_type = 'assessment_passed' then 1 else 0 end) as {{ dbt.type_int() }}
    ) as assessments_passed_count,
    max(
        case when event_type in ('completed', 'assessment_passed', 'certificate_issued') then score end
    ) as best_score,
    max(case when event_type = 'completed' then 1 else 0 end) = 1 as is_completed,
    min(occurred_at) as first_activity_at,
    max(occurred_at) as last_activity_at
from events
group by learner_key, course_id
