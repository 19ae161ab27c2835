{%- set raw = raw_table('raw_lms', 'event_logs') -%}

with

source as (
    {{ latest_version(raw_source('raw_lms', 'event_logs'), ['event_log_id']) }}
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
        {{ parsed(raw, 'created') }} as created_at
    from source
)

select * from renamed
