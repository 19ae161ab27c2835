{#- Keep the latest landed version of each key: the newest dlt load wins, then the newest
    source-side modification. Raw tables are merged by dlt, so this only bites when a load
    landed duplicates; it keeps staging's grain honest either way. -#}
{% macro latest_version(relation, key_columns, order_columns=[]) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by _dlt_load_id desc
                {%- for column in order_columns %}, {{ column }} desc nulls last{% endfor %}
            ) as _version_rank
        from {{ relation }}
    ) as versions
    where _version_rank = 1
{%- endmacro %}
