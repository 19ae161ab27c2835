{#- A local stand-in for dbt_utils.generate_surrogate_key (no hub packages offline).
    Nulls and empty strings hash differently so ('a', null) and ('a', '') never collide. -#}
{% macro generate_surrogate_key(field_list) -%}
    {%- set parts = [] -%}
    {%- for field in field_list -%}
        {%- do parts.append(
            "coalesce(" ~ dbt.safe_cast(field, dbt.type_string()) ~ ", '_lmsbridge_null_')"
        ) -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
