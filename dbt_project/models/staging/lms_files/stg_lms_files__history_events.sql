{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key='history_event_key',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms_files', 'lms_history_events') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms_files', 'lms_history_events')), ['event_key']) }}
),

renamed as (
    select
        -- ids
        cast(event_key as {{ dbt.type_string() }}) as history_event_key,
        nullif(trim(cast(lms_user_id as {{ dbt.type_string() }})), '') as lms_user_id,
        cast(course_id as {{ dbt.type_string() }}) as course_id,
        nullif(trim(external_event_id), '') as external_event_id,

        -- strings
        learner_email,
        nullif(trim(course_name), '') as course_name,
        lower(trim(event_type)) as event_type,
        coalesce(nullif(lower(trim(lms)), ''), 'csv') as lms,
        source_file,

        -- numerics
        {{ parsed(raw, 'score') }} as score,
        {{ parsed(raw, 'source_line') }} as source_line,

        -- timestamps
        {{ parsed(raw, 'occurred_at') }} as occurred_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
