{#- The position weights of each position-kind attribution model (its attribution_models
    row, empty cells taken from the kind's *_weight vars) split a deal's credit, so they must
    sum to 1; otherwise that model's credits no longer sum to 1 and every attributed amount
    is off. A failing row names the model, its weights' sum and what to fix. -#}
select
    attribution_model,
    kind,
    first_weight + last_weight + middle_weight + lead_weight + opportunity_weight as weight_sum,
    'the position weights of ' || attribution_model
    || ' (its attribution_models row, else the ' || kind || '_*_weight vars) must sum to 1'
        as problem
from {{ ref('int_attribution_models') }}
where
    kind in ('u_shaped', 'w_shaped', 'j_shaped', 'inverse_j', 'full_path')
    and abs(first_weight + last_weight + middle_weight + lead_weight + opportunity_weight - 1.0) > 1e-9
