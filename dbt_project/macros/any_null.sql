{#- A condition true when any of `columns` is null (false for none): the one the project's
    null-checking generic tests share. -#}
{% macro any_null(columns) -%}
    {%- for column in columns -%}
        {{ column }} is null{% if not loop.last %} or {% endif %}
    {%- else -%}
        false
    {%- endfor -%}
{%- endmacro %}
