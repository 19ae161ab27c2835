{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key='certificate_id',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms', 'certificates') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms', 'certificates')), ['id'], ['issued']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as certificate_id,
        cast(user__id as {{ dbt.type_string() }}) as lms_user_id,
        cast(course_id as {{ dbt.type_string() }}) as course_id,

        -- strings
        user__email as user_email,
        title as certificate_title,
        type as certificate_type,
        status as certificate_status,

        -- numerics: the API sends the score as text, often a number, sometimes a word ("OK")
        {{ parsed(raw, 'score') }} as score,
        nullif(trim(score), '') as score_text,

        -- timestamps
        {{ parsed(raw, 'issued') }} as issued_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
