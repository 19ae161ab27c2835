{#- The newest dlt load of the learning-event feeds the incremental marts have seen:
    int_learning_events_changed_learners takes rows of later loads as new activity. Built
    after the three marts, so a build that fails before they all finish does not move it and
    the next build redoes the same learners. -#}
{{ config(tags=['learning_events']) }}
-- depends_on: {{ ref('fct_learning_events') }}
-- depends_on: {{ ref('fct_learner_course_progress') }}
-- depends_on: {{ ref('fct_learner_engagement') }}

with

loads as (
    {%- for feed in [
        'stg_learnworlds__enrollments',
        'stg_learnworlds__user_progress',
        'stg_learnworlds__grades',
        'stg_learnworlds__certificates',
        'stg_learnworlds__payments',
        'stg_learnworlds__webhook_events',
        'stg_lms_files__history_events',
    ] %}
        select max(_dlt_load_id) as load_id from {{ ref(feed) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select coalesce(max(load_id), '') as through_load_id
from loads
