with

source as (
    {{ latest_version(raw_source('raw_lms_files', 'rejected_rows'), ['source_file', 'source_line']) }}
),

renamed as (
    select
        -- ids
        source_file,
        {{ dbt.safe_cast('source_line', dbt.type_int()) }} as source_line,

        -- strings
        reason as rejection_reason,
        raw_line,

        -- timestamps
        {{ to_timestamptz('rejected_at') }} as rejected_at
    from source
)

select * from renamed
