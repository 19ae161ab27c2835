{#- Contract check on Spark: the yml declares DuckDB type names (varchar, timestamp with time
    zone), which Spark cannot cast to. The expected schema is built from the Spark spelling of
    each declared type, so one yml serves both engines. -#}
{% macro spark__get_empty_schema_sql(columns) %}
    {%- set missing = [] -%}
    select
    {%- for name in columns %}
        {%- set column = columns[name] -%}
        {%- if column['data_type'] is not defined -%}
            {%- do missing.append(column['name']) -%}
        {%- else %}
        cast(null as {{ lmsbridge.engine_type(column['data_type']) }}) as {{ adapter.quote(column['name']) if column.get('quote') else column['name'] }}
            {%- if not loop.last %},{% endif -%}
        {%- endif -%}
    {%- endfor %}
    {%- if missing -%}
        {{ exceptions.column_type_missing(column_names=missing) }}
    {%- endif -%}
{% endmacro %}
