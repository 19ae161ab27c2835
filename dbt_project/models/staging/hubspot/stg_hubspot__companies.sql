with

source as (
    {{ latest_version(raw_source('raw_hubspot', 'companies'), ['id'], ['updated_at']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as hubspot_company_id,

        -- strings
        name as company_name,
        domain as company_domain,
        -- HubSpot stores what users typed: compare on a bare lowercase host
        nullif(
            {{ dbt.replace("lower(trim(domain))", "'www.'", "''") }}, ''
        ) as company_domain_normalized,

        -- timestamps
        {{ to_timestamptz('createdate') }} as created_at,
        {{ to_timestamptz('hs_lastmodifieddate') }} as last_modified_at
    from source
    where not coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false)
)

select * from renamed
