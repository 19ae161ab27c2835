{#- A cast that yields null instead of failing the build. dbt.safe_cast is a plain cast on
    DuckDB, so one unexpected source value (a certificate score "OK") would stop everything. -#}
{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast', 'lmsbridge')(expr, type)) }}
{%- endmacro %}

{#- Adapters whose safe_cast is a real try-cast (Snowflake, BigQuery, Spark) -#}
{% macro default__try_cast(expr, type) -%}
    {{ dbt.safe_cast(expr, type) }}
{%- endmacro %}

{% macro duckdb__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}
