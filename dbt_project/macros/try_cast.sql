{#- A cast that yields null instead of failing the build. dbt.safe_cast is a plain cast on
    DuckDB, so one unexpected source value (a certificate score "OK") would stop everything. -#}
{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast', 'lmsbridge')(expr, type)) }}
{%- endmacro %}

{#- Adapters whose safe_cast is a real try-cast (Snowflake, BigQuery) -#}
{% macro default__try_cast(expr, type) -%}
    {{ dbt.safe_cast(expr, type) }}
{%- endmacro %}

{#- Spark's safe_cast is a plain cast, null on failure only while ANSI mode is off (dbt-spark
    turns it off; Databricks SQL warehouses keep it on). -#}
{% macro spark__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro duckdb__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}
