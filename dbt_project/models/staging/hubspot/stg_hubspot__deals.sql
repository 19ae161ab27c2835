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
        coalesce(
            nullif(upper(trim(cast(deal_currency_code as {{ dbt.type_string() }}))), ''),
            '{{ var("default_currency") }}'
        ) as currency,

        -- booleans (HubSpot's calculated flags, read-only; null when the portal sent none)
        {{ try_cast('hs_is_closed_won', dbt.type_boolean()) }} as is_closed_won,
        {{ try_cast('hs_is_closed_lost', dbt.type_boolean()) }} as is_closed_lost,
        {{ try_cast('hs_is_closed', dbt.type_boolean()) }} as is_closed,

        -- numerics (HubSpot number properties may arrive as strings)
        {{ try_cast('amount', type_double()) }} as amount,

        -- timestamps
        {{ to_timestamptz('closedate') }} as closed_at,
        {{ to_timestamptz('createdate') }} as created_at,
        {{ to_timestamptz('hs_lastmodifieddate') }} as last_modified_at
    from source
    where not coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false)
),

classified as (
    select
        *,
        -- HubSpot computes the flags from the stage's metadata, so they are right for custom
        -- pipelines too; the default pipeline's stage ids are only the fallback when a portal
        -- (or a file) sends no flags. Closed and not won is lost, as HubSpot defines it.
        case
            when is_closed_won then 'won'
            when is_closed_lost then 'lost'
            when is_closed and not is_closed_won then 'lost'
            when not is_closed or (not is_closed_won and not is_closed_lost) then 'open'
            when deal_stage = 'closedwon' and is_closed_won is null then 'won'
            when deal_stage = 'closedlost' then 'lost'
            else 'open'
        end as deal_status
    from renamed
)

select * from classified
