{#- The u_shaped and w_shaped position weights (vars in dbt_project.yml) split a deal's
    credit, so each set must sum to 1; otherwise credits of those models no longer sum to 1
    and every attributed amount is off. A failing row names the model and its sum. -#}
{%- set sums = {
    'u_shaped': var('u_shaped_first_weight') + var('u_shaped_last_weight')
        + var('u_shaped_middle_weight'),
    'w_shaped': var('w_shaped_first_weight') + var('w_shaped_last_weight')
        + var('w_shaped_opportunity_weight') + var('w_shaped_other_weight'),
} -%}
{%- for model, total in sums.items() %}
    select
        '{{ model }}' as attribution_model,
        {{ total }} as weight_sum,
        'the {{ model }}_*_weight vars must sum to 1' as problem
    {%- if (total - 1.0) | abs <= 1e-9 %}
        where false
    {%- endif %}
    {% if not loop.last %}union all{% endif %}
{%- endfor %}
