-- attributed_amount = credit * deal amount, and null exactly when the amount is null.
select
    attribution.deal_id,
    attribution.touchpoint_id,
    attribution.attribution_model
from {{ ref('fct_deal_attribution') }} as attribution
inner join {{ ref('stg_hubspot__deals') }} as deals
    on attribution.deal_id = deals.hubspot_deal_id
where
    (deals.amount is null) <> (attribution.attributed_amount is null)
    or abs(attribution.attributed_amount - attribution.credit * deals.amount) > 1e-9 * greatest(1.0, abs(deals.amount))
