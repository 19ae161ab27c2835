{#- Every model listed in the attribution_models seed needs its formula in
    fct_deal_attribution (a `when` of its credit case); a seed row without one yields null
    credits. Rows: the models to add a formula for. -#}
select distinct attribution_model
from {{ ref('fct_deal_attribution') }}
where credit is null
