-- For every (deal, model) with touches, credits sum to 1 within 1e-9 (DESIGN.md).
select
    deal_id,
    attribution_model,
    sum(credit) as credit_total
from {{ ref('fct_deal_attribution') }}
group by deal_id, attribution_model
having abs(sum(credit) - 1.0) > 1e-9
