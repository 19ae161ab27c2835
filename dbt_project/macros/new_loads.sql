{#- The rows of `relation` that dlt loaded after the newest load already in this incremental
    model (all of them on a first build or a --full-refresh). dlt load ids are unix seconds
    as text of one width, so they sort as text; raw tables are merged, so a changed record
    comes back with a new load id and is picked up here too. -#}
{% macro new_loads(relation) -%}
    {%- if is_incremental() -%}
        (
            select * from {{ relation }}
            where _dlt_load_id > (select coalesce(max(_dlt_load_id), '') from {{ this }})
        ) as new_loads
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
