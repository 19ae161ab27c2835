{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key=['lms_user_id', 'course_id'],
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms', 'user_progress') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms', 'user_progress')), ['user_id', 'course_id'], ['completed_at']) }}
),

renamed as (
    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as lms_user_id,
        cast(course_id as {{ dbt.type_string() }}) as course_id,

        -- strings
        lower(status) as progress_status,

        -- numerics
        {{ parsed(raw, 'progress_rate') }} as progress_rate,
        {{ parsed(raw, 'average_score_rate') }} as average_score_rate,
        {{ parsed(raw, 'time_on_course') }} as time_on_course_seconds,
        {{ parsed(raw, 'total_units') }} as total_units,
        {{ parsed(raw, 'completed_units') }} as completed_units,

        -- timestamps
        {{ parsed(raw, 'completed_at') }} as completed_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
