{#- Explode a delimited string into rows (one value per row) inside a select list. -#}
{% macro explode_delimited(expr, delimiter) -%}
    {{ return(adapter.dispatch('explode_delimited', 'lmsbridge')(expr, delimiter)) }}
{%- endmacro %}

{% macro default__explode_delimited(expr, delimiter) -%}
    {{ exceptions.raise_compiler_error('explode_delimited is not implemented for ' ~ target.type) }}
{%- endmacro %}

{% macro duckdb__explode_delimited(expr, delimiter) -%}
    unnest(string_split({{ expr }}, '{{ delimiter }}'))
{%- endmacro %}

{#- split() takes a regex: a character class keeps the delimiter literal. Spark rejects a
    generator nested in an expression, so callers transform the exploded column afterwards. -#}
{% macro spark__explode_delimited(expr, delimiter) -%}
    explode(split({{ expr }}, '[{{ delimiter }}]'))
{%- endmacro %}

{#- One row per character position: (position, character) for NFKC mapping. -#}
{% macro explode_characters(expr) -%}
    {{ return(adapter.dispatch('explode_characters', 'lmsbridge')(expr)) }}
{%- endmacro %}

{% macro default__explode_characters(expr) -%}
    {{ exceptions.raise_compiler_error('explode_characters is not implemented for ' ~ target.type) }}
{%- endmacro %}

{% macro duckdb__explode_characters(expr) -%}
    unnest(generate_series(1, length({{ expr }}))) as char_position
{%- endmacro %}

{% macro spark__explode_characters(expr) -%}
    explode(sequence(1, length({{ expr }}))) as char_position
{%- endmacro %}

{#- True when the text holds any non-ASCII character (only those need NFKC mapping). -#}
{% macro has_non_ascii(expr) -%}
    {{ return(adapter.dispatch('has_non_ascii', 'lmsbridge')(expr)) }}
{%- endmacro %}

{% macro default__has_non_ascii(expr) -%}
    {{ exceptions.raise_compiler_error('has_non_ascii is not implemented for ' ~ target.type) }}
{%- endmacro %}

{% macro duckdb__has_non_ascii(expr) -%}
    regexp_matches({{ expr }}, '[^\x00-\x7F]')
{%- endmacro %}

{#- Spark unescapes string literals, so the regex's backslashes are doubled. -#}
{% macro spark__has_non_ascii(expr) -%}
    ({{ expr }} rlike '[^\\x00-\\x7F]')
{%- endmacro %}

{#- Canonical composition after the per-character compatibility mapping. -#}
{% macro nfc(expr) -%}
    {{ return(adapter.dispatch('nfc', 'lmsbridge')(expr)) }}
{%- endmacro %}

{% macro default__nfc(expr) -%}
    normalize({{ expr }}, nfc)
{%- endmacro %}

{% macro duckdb__nfc(expr) -%}
    nfc_normalize({{ expr }})
{%- endmacro %}

{#- Spark SQL has no Unicode normalization (and reflect() cannot pass Normalizer.Form):
    left as is. Only decomposed input (a letter followed by a combining mark) differs from
    DuckDB; the NFKC table already maps every precomposed or compatibility character. -#}
{% macro spark__nfc(expr) -%}
    {{ expr }}
{%- endmacro %}

{#- Ordered string aggregation. -#}
{% macro string_agg_ordered(expr, delimiter, order_by) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'lmsbridge')(expr, delimiter, order_by)) }}
{%- endmacro %}

{% macro default__string_agg_ordered(expr, delimiter, order_by) -%}
    string_agg({{ expr }}, '{{ delimiter }}' order by {{ order_by }})
{%- endmacro %}

{#- collect_list keeps no order: sort (key, value) pairs, then keep the values; `distinct x`
    collects a set of pairs instead. Null when every value is null, as string_agg is
    (array_join would give ''). -#}
{% macro spark__string_agg_ordered(expr, delimiter, order_by) -%}
    {%- set is_distinct = expr.lower().startswith('distinct ') -%}
    {%- set item = expr[9:] if is_distinct else expr -%}
    case when count({{ expr }}) > 0 then array_join(transform(
        array_sort({{ 'collect_set' if is_distinct else 'collect_list' }}(
            named_struct('sort_key', {{ order_by }}, 'item', {{ item }})
        )),
        pair -> pair.item
    ), '{{ delimiter }}') end
{%- endmacro %}

{#- True when a ";"-joined list holds exactly `value` (not merely a substring of an item). -#}
{% macro delimited_list_contains(list_expr, value) -%}
    coalesce({{ dbt.position("';" ~ value ~ ";'", dbt.concat(["';'", list_expr, "';'"])) }} > 0, false)
{%- endmacro %}

{#- A top-level field of a JSON text as text (dlt keeps objects nested deeper than the
    source's max_table_nesting as JSON). -#}
{% macro json_text_field(expr, key) -%}
    {{ return(adapter.dispatch('json_text_field', 'lmsbridge')(expr, key)) }}
{%- endmacro %}

{% macro default__json_text_field(expr, key) -%}
    json_extract_path_text({{ expr }}, '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text_field(expr, key) -%}
    json_extract_string({{ expr }}, '$.{{ key }}')
{%- endmacro %}

{% macro spark__json_text_field(expr, key) -%}
    get_json_object({{ expr }}, '$.{{ key }}')
{%- endmacro %}
