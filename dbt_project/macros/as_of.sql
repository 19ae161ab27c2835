{#- The build's reference time: var `as_of` (LMSBRIDGE_AS_OF) when set, else now. -#}
{% macro as_of_timestamp() -%}
    {%- set as_of = var('as_of', '') | string | trim -%}
    {%- if as_of -%}
        {{ return(adapter.dispatch('as_of_literal', 'lmsbridge')(as_of)) }}
    {%- else -%}
        {{ dbt.current_timestamp() }}
    {%- endif -%}
{%- endmacro %}

{% macro default__as_of_literal(as_of) -%}
    cast('{{ as_of }}' as {{ dbt.type_timestamp() }}tz)
{%- endmacro %}

{% macro spark__as_of_literal(as_of) -%}
    cast('{{ as_of }}' as {{ lmsbridge.type_timestamptz() }})
{%- endmacro %}
