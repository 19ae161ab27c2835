{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key='event_log_id',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms', 'event_logs') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms', 'event_logs')), ['event_log_id']) }}
),

renamed as (
    select
        -- ids
        cast(event_log_id as {{ dbt.type_string() }}) as event_log_id,
        cast(user__id as {{ dbt.type_string() }}) as lms_user_id,

        -- strings
        activity,
        description,
        type as event_log_type,

        -- timestamps
        {{ parsed(raw, 'created') }} as created_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
