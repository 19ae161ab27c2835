{%- set raw = raw_table('raw_lms', 'user_not_found') -%}

with

source as (
    {{ latest_version(raw_source('raw_lms', 'user_not_found'), ['user_id']) }}
),

renamed as (
    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as lms_user_id,

        -- timestamps (unix seconds on the extractor's clock)
        {{ parsed(raw, 'detected_at') }} as detected_at
    from source
)

select * from renamed
