{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key='grade_id',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms', 'grades') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms', 'grades')), ['id'], ['modified']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as grade_id,
        cast(user_id as {{ dbt.type_string() }}) as lms_user_id,
        cast(course_id as {{ dbt.type_string() }}) as course_id,
        cast(learning_unit__id as {{ dbt.type_string() }}) as learning_unit_id,

        -- strings
        email as user_email,
        learning_unit__type as learning_unit_type,

        -- numerics
        {{ parsed(raw, 'grade') }} as grade,

        -- timestamps
        {{ parsed(raw, 'created') }} as created_at,
        {{ parsed(raw, 'modified') }} as modified_at,
        {{ parsed(raw, 'submitted_timestamp') }} as submitted_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
