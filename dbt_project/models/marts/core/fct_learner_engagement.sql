{#- Contact-level learning summary, one row per learner (a matched contact has exactly one
    learner: identity guarantees it). Scores come from the course_rules seed.
    Incremental by learner, like fct_learning_events: only the learners of
    int_learning_events_changed_learners are recomputed (their events, contact, or presence
    in dim_learners changed); a course_rules change needs --full-refresh. -#}

-- depends_on: {{ ref('int_learning_events_changed_learners') }}

with

progress as (
    select * from {{ ref('fct_learner_course_progress') }}
    {%- if is_incremental() %}
        where learner_key in (select learner_key from {{ ref('int_learning_events_changed_learners') }})
    {%- endif %}
),

rules as (
    select * from {{ ref('int_course_rules_resolved') }}
),

scored as (
    select
        progress.*,
        coalesce(rules.points, 0) as points,
        rules.certifies_product
    from progress
    left join rules on progress.course_id = rules.course_id
),

last_completion as (
    select
        learner_key,
        course_name,
        completed_at,
        row_number() over (
            partition by learner_key order by completed_at desc, course_id desc
        ) as completion_recency
    from scored
    where is_completed
),

certified as (
    select distinct
        learner_key,
        certifies_product
    from scored
    where certifies_product is not null and (is_completed or certified_at is not null)
),

certified_lists as (
    select
        learner_key,
        {{ string_agg_ordered('certifies_product', ';', 'certifies_product') }} as certified_products
    from certified
    group by learner_key
),

totals as (
    select
        learner_key,
        sum(case when is_completed then 1 else 0 end) as courses_completed_count,
        sum(case when is_completed then points else 0 end) as engagement_score,
        max(case when purchased_at is not null then 1 else 0 end) = 1 as has_purchase,
        max(last_activity_at) as last_activity_at
    from scored
    group by learner_key
)

select
    learners.learner_key,
    learners.hubspot_contact_id,
    cast(coalesce(totals.courses_completed_count, 0) as {{ dbt.type_int() }}) as courses_completed_count,
    last_completion.course_name as last_course_completed,
    last_completion.completed_at as last_course_completed_at,
    cast(coalesce(totals.engagement_score, 0) as {{ type_double() }}) as engagement_score,
    certified_lists.certified_products,
    coalesce(totals.has_purchase, false) as has_purchase,
    totals.last_activity_at
from {{ ref('dim_learners') }} as learners
left join totals on learners.learner_key = totals.learner_key
left join last_completion
    on learners.learner_key = last_completion.learner_key and last_completion.completion_recency = 1
left join certified_lists on learners.learner_key = certified_lists.learner_key
{%- if is_incremental() %}
    where learners.learner_key in (select learner_key from {{ ref('int_learning_events_changed_learners') }})
{%- endif %}
