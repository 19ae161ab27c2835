{#- The published attribution models and their resolved parameters; BI and the reverse ETL
    (the HubSpot options of lms_attribution_model) read it. -#}
select
    attribution_model,
    label,
    kind,
    first_weight,
    last_weight,
    middle_weight,
    lead_weight,
    opportunity_weight,
    half_life_days,
    lookback_days,
    lookback_steps,
    path_transform,
    transform_channels,
    channel,
    attribution_model = '{{ var("default_attribution_model") }}' as is_default
from {{ ref('int_attribution_models') }}
