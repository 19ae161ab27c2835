{#- The keyword that makes a CTE an optimisation barrier, computed once: DuckDB and Postgres
    say `materialized`; Spark has no such keyword (its CTEs are inlined), so nothing there. -#}
{% macro materialized_cte() -%}
    {{ return(adapter.dispatch('materialized_cte', 'lmsbridge')()) }}
{%- endmacro %}

{% macro default__materialized_cte() -%}
{%- endmacro %}

{% macro duckdb__materialized_cte() -%}
    materialized
{%- endmacro %}
