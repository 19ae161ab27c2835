{#- The build's reference time: var `as_of` (LMSBRIDGE_AS_OF) when set, else now. -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', '') | string | trim -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as {{ lmsbridge.type_timestamptz() }})
    {%- else -%}
        {{ dbt.current_timestamp() }}
    {%- endif -%}
{%- endmacro %}
