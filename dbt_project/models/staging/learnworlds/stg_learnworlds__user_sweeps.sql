{%- set raw = raw_table('raw_lms', 'user_sweeps') -%}

with

source as (
    {{ latest_version(raw_source('raw_lms', 'user_sweeps'), ['sweep_id']) }}
),

renamed as (
    select
        -- ids
        cast(sweep_id as {{ dbt.type_string() }}) as sweep_id,

        -- numerics
        cast(users_seen as {{ dbt.type_bigint() }}) as users_seen,

        -- timestamps (unix seconds on the extractor's clock)
        {{ parsed(raw, 'started_at') }} as started_at,
        {{ parsed(raw, 'finished_at') }} as finished_at
    from source
)

select * from renamed
