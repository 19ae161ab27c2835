{#- source(), but a table dlt has not created yet (no webhook ever arrived, no history CSV
    imported, a feed that was always empty) reads as an empty table with the declared raw
    columns instead of failing the whole build. Column types come from the source yml. -#}
{% macro raw_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {#- unit tests render source() as a fixture CTE without a schema: use it as is -#}
    {%- if execute and relation.schema and load_relation(relation) is none -%}
        {%- set node = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name)
            | first -%}
        (
            select
            {%- for column in node.columns.values() %}
                cast(null as {{ lmsbridge.engine_type(column.data_type) }}) as {{ column.name }}{% if not loop.last %},{% endif %}
            {%- endfor %}
            where 1 = 0
        ) as missing_{{ table_name }}
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- A type declared in a yml (DuckDB's names) as this engine spells it. -#}
{% macro engine_type(data_type) -%}
    {{ return(adapter.dispatch('engine_type', 'lmsbridge')(data_type)) }}
{%- endmacro %}

{% macro default__engine_type(data_type) -%}
    {{ return(data_type) }}
{%- endmacro %}

{#- Spark has no unbounded varchar and no separate instant type (its timestamp is one). -#}
{% macro spark__engine_type(data_type) -%}
    {%- set spark_types = {
        'varchar': 'string',
        'text': 'string',
        'json': 'string',
        'timestamptz': 'timestamp',
        'timestamp with time zone': 'timestamp',
    } -%}
    {{ return(spark_types.get(data_type | lower | trim, data_type)) }}
{%- endmacro %}
