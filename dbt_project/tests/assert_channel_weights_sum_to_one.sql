-- Each (attribution_model, path_key) of int_attribution_channel_weights splits a deal's credit
-- over its channels: weights in [0, 1] summing to 1 within 1e-9, or markov/shapley credits in
-- fct_deal_attribution no longer sum to 1 per deal.
select
    attribution_model,
    path_key,
    sum(channel_weight) as weight_sum,
    min(channel_weight) as min_weight,
    max(channel_weight) as max_weight
from {{ ref('int_attribution_channel_weights') }}
group by attribution_model, path_key
having
    abs(sum(channel_weight) - 1.0) > 1e-9
    or min(channel_weight) < 0
    or max(channel_weight) > 1
