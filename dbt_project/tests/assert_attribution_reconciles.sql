{#- Fails the build when a published attribution model does not hand out a deal exactly once
    (fct_attribution_reconciliation status credits_do_not_sum): its credits do not sum to 1
    within 1e-9, or its attributed amounts do not add up to the deal amount. Each failing row
    names the deal, the model and the sums. -#}
select
    deal_id,
    attribution_model,
    touch_count,
    credit_sum,
    deal_amount,
    credited_amount,
    amount_difference
from {{ ref('fct_attribution_reconciliation') }}
where status = 'credits_do_not_sum'
