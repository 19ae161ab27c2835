{#- The learners whose learning events and per-learner facts this build recomputes
    (fct_learning_events, fct_learner_course_progress, fct_learner_engagement are incremental
    by learner): those with feed rows of a dlt load newer than the last build that finished
    all three, those whose learner row or matched contact changed (or who appeared or went),
    and those with an event in a course whose catalogue title changed.
    It reads the previous build's marts by name, not ref(): they are built after this model,
    and a ref would be a cycle. Before the marts exist (a first build) it is empty: they are
    built whole then. -#}
{{ config(tags=['learning_events']) }}
-- depends_on: {{ ref('int_learning_events_unioned') }}
-- depends_on: {{ ref('stg_learnworlds__user_progress') }}
-- depends_on: {{ ref('stg_learnworlds__grades') }}
-- depends_on: {{ ref('dim_learners') }}
-- depends_on: {{ ref('stg_learnworlds__courses') }}
{%- set previous = {} -%}
{%- if execute -%}
    {%- for schema, name in [
        ('marts', 'fct_learning_events'),
        ('marts', 'fct_learner_engagement'),
        ('intermediate', 'int_learning_events_watermark'),
    ] -%}
        {%- do previous.update({name: adapter.get_relation(this.database, schema, name)}) -%}
    {%- endfor -%}
{%- endif -%}

{%- if previous.get('fct_learning_events') and previous.get('fct_learner_engagement') %}
    {#- a literal, so the load-id filter reaches the staging scans; built before the
        watermark existed: every learner with events changed -#}
    {%- if previous.get('int_learning_events_watermark') %}
        {%- set through = newest_load_id(previous['int_learning_events_watermark'], 'through_load_id') %}
    {%- else %}
        {%- set through = "''" %}
    {%- endif %}

    with

    new_activity as (
        select unioned.learner_key
        from {{ ref('int_learning_events_unioned') }} as unioned
        where unioned._dlt_load_id > {{ through }}
        -- a changed record that no longer makes an event (progress reset, a regraded
        -- assessment below the pass mark) must still drop the event it made before
        {%- for feed in ['stg_learnworlds__user_progress', 'stg_learnworlds__grades'] %}
            union all
            select {{ generate_surrogate_key(["'lms'", 'lms_user_id']) }}
            from {{ ref(feed) }}
            where _dlt_load_id > {{ through }}
        {%- endfor %}
    ),

    learner_changes as (
        -- the engagement mart has one row per learner with the contact it was built with
        select coalesce(learners.learner_key, engagement.learner_key) as learner_key
        from {{ ref('dim_learners') }} as learners
        full outer join {{ previous['fct_learner_engagement'] }} as engagement
            on learners.learner_key = engagement.learner_key
        where
            learners.learner_key is null
            or engagement.learner_key is null
            or learners.hubspot_contact_id is distinct from engagement.hubspot_contact_id
    ),

    renamed_courses as (
        select events.learner_key
        from {{ previous['fct_learning_events'] }} as events
        inner join {{ ref('stg_learnworlds__courses') }} as courses
            on events.course_id = courses.course_id
        where
            courses.course_title is not null
            and courses.course_title is distinct from events.course_name
    )

    select learner_key from new_activity
    union
    select learner_key from learner_changes
    union
    select learner_key from renamed_courses

{%- else %}

    select cast(null as {{ dbt.type_string() }}) as learner_key
    where false

{%- endif %}
