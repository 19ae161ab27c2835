{#- Long format (key, name, value as text) from a wide relation, one row per key and listed
    column. Field mappings name columns chosen by analysts (custom LMS fields, any HubSpot
    property), so the column list is only known once the raw table exists. `column_types`
    (name -> the engine's type, raw_table().types) lets every engine render instants alike. -#}
{% macro unpivot_text(relation, key_expr, columns, name_prefix='', strip_prefix='', column_types={}) -%}
    {%- if not columns -%}
    {#- no such column landed yet: the same shape, no rows -#}
    select
        cast(null as {{ dbt.type_string() }}) as record_key,
        cast(null as {{ dbt.type_string() }}) as field_name,
        cast(null as {{ dbt.type_string() }}) as field_value
    where 1 = 0
    {%- else -%}
    {%- set unpivot = adapter.dispatch('unpivot_text', 'lmsbridge') -%}
    {{ return(unpivot(relation, key_expr, columns, name_prefix, strip_prefix, column_types)) }}
    {%- endif -%}
{%- endmacro %}

{% macro default__unpivot_text(relation, key_expr, columns, name_prefix, strip_prefix, column_types) -%}
    {%- for column in columns %}
    select
        {{ key_expr }} as record_key,
        '{{ name_prefix ~ column[strip_prefix | length:] }}' as field_name,
        {{ lmsbridge.text_of(column, column_types.get(column, '')) }} as field_value
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- One scan instead of one per column: each row's (name, value) pairs exploded into rows. -#}
{% macro unpivot_by_exploding(relation, key_expr, exploded_pairs) -%}
    select
        record_key,
        pair.field_name,
        pair.field_value
    from (
        select
            {{ key_expr }} as record_key,
            {{ exploded_pairs }} as pair
        from {{ relation }}
    ) as pairs
{%- endmacro %}

{% macro duckdb__unpivot_text(relation, key_expr, columns, name_prefix, strip_prefix, column_types) -%}
    {%- set pairs = [] -%}
    {%- for column in columns -%}
        {%- set name = name_prefix ~ column[strip_prefix | length:] -%}
        {%- do pairs.append("{'field_name': '" ~ name ~ "', 'field_value': cast(" ~ column ~ " as varchar)}") -%}
    {%- endfor -%}
    {{ lmsbridge.unpivot_by_exploding(relation, key_expr, 'unnest([' ~ pairs | join(', ') ~ '])') }}
{%- endmacro %}

{#- Spark plans a union of hundreds of selects for seconds per query. -#}
{% macro spark__unpivot_text(relation, key_expr, columns, name_prefix, strip_prefix, column_types) -%}
    {%- set pairs = [] -%}
    {%- for column in columns -%}
        {%- set name = name_prefix ~ column[strip_prefix | length:] -%}
        {%- set value = lmsbridge.text_of(column, column_types.get(column, '')) -%}
        {%- do pairs.append("named_struct('field_name', '" ~ name ~ "', 'field_value', " ~ value ~ ")") -%}
    {%- endfor -%}
    {{ lmsbridge.unpivot_by_exploding(relation, key_expr, 'explode(array(' ~ pairs | join(', ') ~ '))') }}
{%- endmacro %}

{#- A column as text. Spark renders an instant without DuckDB's zone suffix; the session zone
    is UTC, so '+00' makes the two engines' text the same. -#}
{% macro text_of(column, data_type) -%}
    {{ return(adapter.dispatch('text_of', 'lmsbridge')(column, data_type)) }}
{%- endmacro %}

{% macro default__text_of(column, data_type) -%}
    cast({{ column }} as {{ dbt.type_string() }})
{%- endmacro %}

{% macro spark__text_of(column, data_type) -%}
    {%- if data_type.startswith('timestamp') -%}
        concat(cast({{ column }} as string), '+00')
    {%- else -%}
        cast({{ column }} as string)
    {%- endif -%}
{%- endmacro %}
