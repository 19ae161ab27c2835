{#- on-run-start of every invocation: drop the pipeline's record of its last build's inputs
    (flows/build_inputs.py), so that after a manual or half-finished build the next scheduled
    run builds instead of reusing. The record lives in the DuckDB warehouse only. -#}
{% macro forget_build_inputs() -%}
    {%- if target.type == 'duckdb' -%}
        drop table if exists lmsbridge_meta.build_inputs
    {%- endif -%}
{%- endmacro %}
