with

source as (
    {{ latest_version(raw_source('raw_hubspot', 'owners'), ['id']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as hubspot_owner_id,
        cast(user_id as {{ dbt.type_string() }}) as hubspot_user_id,

        -- strings
        email as owner_email,
        first_name,
        last_name,
        type as owner_type,

        -- booleans
        coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false) as is_archived
    from source
)

select * from renamed
