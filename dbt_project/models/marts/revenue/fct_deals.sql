{#- One row per live deal: what a revenue figure needs to be honest (status, currency, the
    build's as_of) beside the learning influence the reverse ETL writes to the deal. The
    influence columns are read from rev_etl__hubspot_deals, never recomputed, so this mart and
    HubSpot always show the same numbers. -#}
with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

influence as (
    select * from {{ ref('rev_etl__hubspot_deals') }}
),

primary_companies as (
    {{ primary_associations(
        'deals', 'companies', var('deal_primary_company_association_type_id'), 'hubspot_deal_id'
    ) }}
)

select
    deals.hubspot_deal_id as deal_id,
    deals.deal_name,
    deals.pipeline,
    deals.deal_stage,
    deals.deal_status,
    deals.amount,
    deals.currency,
    deals.created_at,
    deals.closed_at,
    deals.hubspot_owner_id,
    primary_companies.hubspot_company_id,
    coalesce(influence.lms_influenced, false) as lms_influenced,
    cast(coalesce(influence.lms_touch_count, 0) as {{ dbt.type_int() }}) as lms_touch_count,
    -- a deal no learner touched earned no learning credit, which is 0, not unknown
    cast(coalesce(influence.lms_attributed_amount, 0) as {{ type_double() }}) as lms_attributed_amount,
    -- the model the lms_* figures follow; the reverse ETL leaves it unset on untouched deals
    coalesce(
        influence.lms_attribution_model, '{{ var("default_attribution_model") }}'
    ) as attribution_model,
    {{ as_of_timestamp() }} as as_of
from deals
left join influence on deals.hubspot_deal_id = influence.hubspot_deal_id
left join primary_companies on deals.hubspot_deal_id = primary_companies.hubspot_deal_id
