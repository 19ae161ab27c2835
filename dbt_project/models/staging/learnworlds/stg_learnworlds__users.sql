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
            {{ dbt.safe_cast('subscribed_for_marketing_emails', dbt.type_boolean()) }}, false
        ) as marketing_consent,
        coalesce({{ dbt.safe_cast('is_suspended', dbt.type_boolean()) }}, false) as is_suspended,

        -- timestamps (LearnWorlds sends unix seconds)
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('last_login') }} as last_login_at,

        -- lineage
        _dlt_load_id as dlt_load_id
    from source
)

select * from renamed
