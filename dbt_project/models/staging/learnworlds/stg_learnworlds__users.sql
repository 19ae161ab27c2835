{%- set raw = raw_table('raw_lms', 'users') -%}

with

source as (
    {{ latest_version(raw_source('raw_lms', 'users'), ['id']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as lms_user_id,

        -- strings
        email,
        username,
        first_name,
        last_name,
        fields__company as company_name,

        -- booleans
        coalesce(
            {{ parsed(raw, 'subscribed_for_marketing_emails') }}, false
        ) as marketing_consent,
        coalesce({{ parsed(raw, 'is_suspended') }}, false) as is_suspended,

        -- timestamps (LearnWorlds sends unix seconds)
        {{ parsed(raw, 'created') }} as created_at,
        {{ parsed(raw, 'last_login') }} as last_login_at,
        {{ parsed(raw, 'seen_at') }} as seen_at,

        -- lineage
        _dlt_load_id as dlt_load_id
    from source
)

select * from renamed
