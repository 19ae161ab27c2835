{#- The given columns together identify a row (local stand-in for dbt_utils). Columns in
    `not_null` are checked for nulls in the same pass: on a view, each test recomputes the
    view, so one test that checks both costs one evaluation instead of one per column. -#}
{% test unique_combination(model, columns, not_null=[]) %}
{%- set has_null = any_null(not_null) %}
select
    {{ columns | join(', ') }},
    count(*) as rows_with_key
    {%- if not_null %},
    sum(case when {{ has_null }} then 1 else 0 end) as rows_with_nulls
    {%- endif %}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{%- if not_null %}
    or sum(case when {{ has_null }} then 1 else 0 end) > 0
{%- endif %}
{% endtest %}
