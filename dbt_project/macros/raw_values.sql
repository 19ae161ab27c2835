{#- Typing raw API values without ever failing on one.

    Each raw source column that needs parsing declares `meta: {parse_as: <kind>}` in its
    source yml; staging and `data_quality_issues` both read that declaration, so what staging
    nulls out and what the quality model reports cannot drift apart. Kinds:
      number        -> double (non-finite values are not numbers either)
      integer       -> bigint
      boolean       -> boolean
      unix_seconds  -> timestamptz from LearnWorlds' unix seconds
      iso_timestamp -> timestamptz from ISO-8601 text
    `text_is_expected: true` marks a column whose documented shape is free text that is
    usually numeric (the certificate score, "OK" in LearnWorlds' own example): a non-number
    there is reported as `info`, not as a warning.

    dlt lands a value it cannot coerce to a column's hinted type in a variant column
    `<column>__v_text` (created on first sight). Reading it here is what keeps such a value
    visible: parsed when it parses, reported when it does not. -#}

{#- Declared kinds plus the columns the raw table really has (variant columns included). -#}
{% macro raw_table(source_name, table_name) -%}
    {%- set info = {'source': source_name ~ '.' ~ table_name, 'columns': [], 'kinds': {},
                    'text_expected': [], 'meta': {}, 'types': {}} -%}
    {%- if not execute -%}
        {{ return(info) }}
    {%- endif -%}
    {%- set node = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | first -%}
    {%- do info.update({'meta': node.meta}) -%}
    {%- for column in node.columns.values() -%}
        {%- do info.columns.append(column.name | lower) -%}
        {%- if column.meta.parse_as -%}
            {%- do info.kinds.update({column.name | lower: column.meta.parse_as}) -%}
        {%- endif -%}
        {%- if column.meta.text_is_expected -%}
            {%- do info.text_expected.append(column.name | lower) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if relation.schema -%}
        {%- set existing = load_relation(relation) -%}
        {%- if existing is not none -%}
            {%- set actual = [] -%}
            {%- for column in adapter.get_columns_in_relation(existing) -%}
                {%- do actual.append(column.name | lower) -%}
                {%- do info.types.update({column.name | lower: column.dtype | lower}) -%}
            {%- endfor -%}
            {%- do info.update({'columns': actual}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(info) }}
{%- endmacro %}

{% macro _raw_kind(raw, column) -%}
    {%- set kind = raw.kinds.get(column) -%}
    {%- if kind is none -%}
        {{ exceptions.raise_compiler_error(
            raw.source ~ '.' ~ column ~ ' has no meta.parse_as in its source yml') }}
    {%- endif -%}
    {{ return(kind) }}
{%- endmacro %}

{%- macro _has_variant(raw, column) -%}
    {{ return((column ~ '__v_text') in raw.columns) }}
{%- endmacro -%}

{#- The raw value as text, whichever column dlt put it in. -#}
{% macro raw_text(raw, column, prefix='') -%}
    {%- if lmsbridge._has_variant(raw, column) -%}
        coalesce(cast({{ prefix ~ column }} as {{ dbt.type_string() }}), {{ prefix ~ column }}__v_text)
    {%- else -%}
        cast({{ prefix ~ column }} as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}

{#- The raw value cast to `type`, from the typed column or else its variant: null if neither parses. -#}
{% macro _try_raw(raw, column, type, prefix) -%}
    {%- if lmsbridge._has_variant(raw, column) -%}
        coalesce({{ lmsbridge.try_cast(prefix ~ column, type) }}, {{ lmsbridge.try_cast(prefix ~ column ~ '__v_text', type) }})
    {%- else -%}
        {{ lmsbridge.try_cast(prefix ~ column, type) }}
    {%- endif -%}
{%- endmacro %}

{%- macro _finite(expr) -%}
    case when {{ expr }} between -1e308 and 1e308 then {{ expr }} end
{%- endmacro -%}

{#- The typed value of a raw column (its declared kind), null when it does not parse. -#}
{% macro parsed(raw, column, prefix='') -%}
    {%- if not execute -%}
        null
    {%- else -%}
        {%- set kind = lmsbridge._raw_kind(raw, column) -%}
        {%- if kind == 'number' -%}
            {{ lmsbridge._finite(lmsbridge._try_raw(raw, column, type_double(), prefix)) }}
        {%- elif kind == 'integer' -%}
            {{ lmsbridge._try_raw(raw, column, dbt.type_bigint(), prefix) }}
        {%- elif kind == 'boolean' -%}
            {{ lmsbridge._try_raw(raw, column, dbt.type_boolean(), prefix) }}
        {%- elif kind == 'unix_seconds' -%}
            {{ from_unix_seconds(lmsbridge._try_raw(raw, column, type_double(), prefix)) }}
        {%- elif kind == 'iso_timestamp' -%}
            {{ lmsbridge._try_raw(raw, column, lmsbridge.type_timestamptz(), prefix) }}
        {%- else -%}
            {{ exceptions.raise_compiler_error('unknown parse_as kind ' ~ kind ~ ' on ' ~ raw.source ~ '.' ~ column) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Why a raw value became null in staging, or null when it did not (or was blank: an empty
    string is how the LMS says "no value", so it is not an issue). -#}
{% macro parse_issue(raw, column) -%}
    {%- set kind = lmsbridge._raw_kind(raw, column) -%}
    {%- set present = 'nullif(trim(' ~ lmsbridge.raw_text(raw, column) ~ "), '') is not null" -%}
    {%- set reasons = {
        'number': 'not a number',
        'integer': 'not an integer',
        'boolean': 'not a boolean',
        'unix_seconds': 'not a unix timestamp',
        'iso_timestamp': 'not a timestamp',
    } -%}
    case
        when not ({{ present }}) then null
        {%- if kind == 'unix_seconds' %}
        when {{ lmsbridge._finite(lmsbridge._try_raw(raw, column, type_double(), '')) }} is null
            then '{{ reasons[kind] }}'
        when {{ lmsbridge.parsed(raw, column) }} is null then 'timestamp out of range'
        {%- else %}
        when {{ lmsbridge.parsed(raw, column) }} is null then
            {%- if column in raw.text_expected %} 'non-numeric score (LMS text)'
            {%- else %} '{{ reasons[kind] }}'
            {%- endif %}
        {%- endif %}
    end
{%- endmacro %}

{#- One select per checked column of each (source, table): its unparseable values, each
    followed by `union all` (the caller appends the last branch). -#}
{% macro value_issue_rows(checked) -%}
    {%- for source_name, table_name in checked %}
    {%- set relation = raw_source(source_name, table_name) %}
    {%- set raw = raw_table(source_name, table_name) %}
    {%- set key_parts = [] %}
    {%- for key in raw.meta.get('record_key', []) %}
        {%- do key_parts.append('coalesce(cast(' ~ key ~ ' as ' ~ dbt.type_string() ~ "), '')") %}
        {%- if not loop.last %}{% do key_parts.append("'|'") %}{% endif %}
    {%- endfor %}
    {%- for column in raw.kinds %}
    select
        source_table,
        record_key,
        column_name,
        raw_value,
        reason,
        severity,
        dlt_load_id
    from (
        select
            '{{ raw.source }}' as source_table,
            {{ dbt.concat(key_parts) if key_parts | length > 1 else key_parts[0] }} as record_key,
            '{{ column }}' as column_name,
            {{ raw_text(raw, column) }} as raw_value,
            {{ parse_issue(raw, column) }} as reason,
            '{{ "info" if column in raw.text_expected else "warn" }}' as severity,
            _dlt_load_id as dlt_load_id
        from {{ relation }}
    ) as checked_{{ table_name }}_{{ column }}
    where reason is not null
    union all
    {%- endfor %}
    {%- endfor %}
{%- endmacro %}

{#- A raw text column dlt creates only when a payload carrying it arrives and the extract does
    not declare (so the source yml cannot list it yet): its text once it exists, else null.
    For webhook fields of types the emulator never sends (learner account events). -#}
{% macro raw_optional_text(raw, column) -%}
    {%- if column | lower in raw.columns -%}
        {{ lmsbridge.raw_text(raw, column) }}
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
