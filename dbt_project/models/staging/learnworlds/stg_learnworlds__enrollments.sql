{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key=['lms_user_id', 'course_id'],
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms', 'enrollments') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms', 'enrollments')), ['user_id', 'course_id'], ['created']) }}
),

renamed as (
    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as lms_user_id,
        cast(course_id as {{ dbt.type_string() }}) as course_id,

        -- timestamps
        {{ parsed(raw, 'created') }} as enrolled_at,
        {{ parsed(raw, 'expires') }} as expires_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
