{#- A model's not-null constraints, checked as data: one node per model, not one per column.
    DuckDB enforces the constraints (the table refuses a null as it is built), so there the
    test is switched off; engines that only record them (Spark on parquet) check them here. -#}
{% test not_null_constraints(model) %}
{{ config(enabled=(target.type != 'duckdb')) }}
{%- set ns = namespace(columns=[]) -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.alias == model.identifier and node.schema == model.schema -%}
        {%- for name, column in node.columns.items()
            if column.constraints | selectattr('type', 'equalto', 'not_null') | list -%}
            {%- do ns.columns.append(adapter.quote(name)) -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif %}
select *
from {{ model }}
where {{ any_null(ns.columns) }}
{% endtest %}
