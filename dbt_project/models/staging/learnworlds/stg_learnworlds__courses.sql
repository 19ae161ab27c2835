{%- set raw = raw_table('raw_lms', 'courses') -%}

with

source as (
    {{ latest_version(raw_source('raw_lms', 'courses'), ['id'], ['modified']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as course_id,

        -- strings
        title as course_title,
        access as course_access,

        -- numerics
        {{ parsed(raw, 'final_price') }} as final_price,

        -- timestamps
        {{ parsed(raw, 'created') }} as created_at,
        {{ parsed(raw, 'modified') }} as modified_at,

        -- lineage
        _dlt_id as dlt_id,
        _dlt_load_id as dlt_load_id
    from source
)

select * from renamed
