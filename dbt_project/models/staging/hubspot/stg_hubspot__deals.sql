with

source as (
    {{ latest_version(raw_source('raw_hubspot', 'deals'), ['id'], ['updated_at']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as hubspot_deal_id,
        nullif(trim(cast(hubspot_owner_id as {{ dbt.type_string() }})), '') as hubspot_owner_id,

        -- strings
        dealname as deal_name,
        dealstage as deal_stage,
        pipeline,

        -- numerics (HubSpot number properties may arrive as strings)
        {{ try_cast('amount', type_double()) }} as amount,

        -- timestamps
        {{ to_timestamptz('closedate') }} as closed_at,
        {{ to_timestamptz('createdate') }} as created_at,
        {{ to_timestamptz('hs_lastmodifieddate') }} as last_modified_at
    from source
    where not coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false)
)

select * from renamed
