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
        {{ dbt.safe_cast('final_price', type_double()) }} as final_price,

        -- timestamps
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('modified') }} as modified_at,

        -- lineage
        _dlt_id as dlt_id,
        _dlt_load_id as dlt_load_id
    from source
)

select * from renamed
