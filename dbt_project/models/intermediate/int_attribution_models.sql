{#- The attribution_models seed with every default resolved (README "Attribution models: one
    seed row each"), so no downstream model reads a weight, half-life, window or channel
    var. Weights a kind does not use are 0 (they hold no share of the credit); only
    transform_channels and lookback_steps stay null ("none" and "no step limit"). -#}
{%- set position_defaults = {
    'u_shaped': {
        'first': var('u_shaped_first_weight'), 'last': var('u_shaped_last_weight'),
        'middle': var('u_shaped_middle_weight'), 'lead': 0, 'opportunity': 0},
    'w_shaped': {
        'first': var('w_shaped_first_weight'), 'last': var('w_shaped_last_weight'),
        'middle': var('w_shaped_other_weight'), 'lead': 0,
        'opportunity': var('w_shaped_opportunity_weight')},
    'j_shaped': {
        'first': var('j_shaped_first_weight'), 'last': var('j_shaped_last_weight'),
        'middle': var('j_shaped_middle_weight'), 'lead': 0, 'opportunity': 0},
    'inverse_j': {
        'first': var('inverse_j_first_weight'), 'last': var('inverse_j_last_weight'),
        'middle': var('inverse_j_middle_weight'), 'lead': 0, 'opportunity': 0},
    'full_path': {
        'first': var('full_path_first_weight'), 'last': var('full_path_last_weight'),
        'middle': var('full_path_middle_weight'), 'lead': var('full_path_lead_weight'),
        'opportunity': var('full_path_opportunity_weight')},
} -%}

with

seed as (
    select
        trim(attribution_model) as attribution_model,
        label,
        lower(trim(kind)) as kind,
        first_weight,
        last_weight,
        middle_weight,
        lead_weight,
        opportunity_weight,
        half_life_days,
        lookback_days,
        lookback_steps,
        nullif(lower(trim(path_transform)), '') as path_transform,
        -- "a | b" and "a|b" name the same channels
        nullif(replace(replace(trim(transform_channels), ' |', '|'), '| ', '|'), '') as transform_channels,
        nullif(lower(trim(channel)), '') as channel
    from {{ ref('attribution_models') }}
)

select
    attribution_model,
    label,
    kind,
    {%- for weight in ['first', 'last', 'middle', 'lead', 'opportunity'] %}
        cast(
            case kind
                {%- for kind, defaults in position_defaults.items() %}
                    when '{{ kind }}' then coalesce({{ weight }}_weight, {{ defaults[weight] }})
                {%- endfor %}
                else coalesce({{ weight }}_weight, 0)
            end as {{ type_double() }}
        ) as {{ weight }}_weight,
    {%- endfor %}
    cast(coalesce(half_life_days, {{ var('half_life_days') }}) as {{ type_double() }}) as half_life_days,
    cast(coalesce(lookback_days, {{ var('lookback_days') }}) as {{ dbt.type_int() }}) as lookback_days,
    cast(lookback_steps as {{ dbt.type_int() }}) as lookback_steps,
    coalesce(path_transform, 'none') as path_transform,
    transform_channels,
    coalesce(channel, '{{ var("attribution_channel") }}') as channel
from seed
