{%- set raw = raw_table('raw_lms_files', 'rejected_rows') -%}

with

source as (
    {{ latest_version(raw_source('raw_lms_files', 'rejected_rows'), ['source_file', 'source_line']) }}
),

renamed as (
    select
        -- ids
        source_file,
        {{ parsed(raw, 'source_line') }} as source_line,

        -- strings
        reason as rejection_reason,
        raw_line,

        -- timestamps
        {{ parsed(raw, 'rejected_at') }} as rejected_at
    from source
)

select * from renamed
