{#- The rows of `relation` that dlt loaded after the newest load already in this incremental
    model (all of them on a first build or a --full-refresh). dlt load ids are unix seconds
    as text of one width, so they sort as text; raw tables are merged, so a changed record
    comes back with a new load id and is picked up here too. The newest id is read first and
    written as a literal, so DuckDB filters the raw scan itself (a subquery would not be). -#}
{% macro new_loads(relation) -%}
    {%- if is_incremental() -%}
        (
            select * from {{ relation }}
            where _dlt_load_id > {{ newest_load_id(this, '_dlt_load_id') }}
        ) as new_loads
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The largest `column` of `relation` as a quoted SQL literal ('' when empty or at parse
    time, when nothing can be queried). -#}
{% macro newest_load_id(relation, column) -%}
    {%- set newest = '' -%}
    {%- if execute -%}
        {%- set found = run_query(
            'select coalesce(max(' ~ column ~ "), '') from " ~ relation
        ).columns[0].values()[0] -%}
        {%- set newest = found | string -%}
    {%- endif -%}
    '{{ newest | replace("'", "''") }}'
{%- endmacro %}
