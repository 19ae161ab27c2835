{#- One row per real learning event. When several feeds report it, the API's row is kept,
    then the webhook's, then the history CSV's; a course name missing on the kept row is
    taken from the course catalogue or another feed.
    Incremental by learner: a build deletes and recomputes only the events of
    int_learning_events_changed_learners (every event id contains its learner, so a learner's
    events depend on that learner's feed rows alone). -#}
-- depends_on: {{ ref('int_learning_events_changed_learners') }}

with

events as (
    select * from {{ ref('int_learning_events_unioned') }}
    {%- if is_incremental() %}
        where learner_key in (select learner_key from {{ ref('int_learning_events_changed_learners') }})
    {%- endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by event_id
            order by source_rank asc, occurred_at asc, score desc nulls last, course_name asc
        ) as source_choice,
        max(course_name) over (partition by event_id) as any_course_name
    from events
),

kept as (
    select * from ranked
    where source_choice = 1
),

courses as (
    select * from {{ ref('stg_learnworlds__courses') }}
),

learners as (
    select * from {{ ref('dim_learners') }}
)

select
    kept.event_id,
    kept.learner_key,
    learners.hubspot_contact_id,
    kept.course_id,
    coalesce(courses.course_title, kept.course_name, kept.any_course_name) as course_name,
    kept.event_type,
    kept.score,
    kept.occurred_at,
    kept.source
from kept
inner join learners on kept.learner_key = learners.learner_key
left join courses on kept.course_id = courses.course_id
