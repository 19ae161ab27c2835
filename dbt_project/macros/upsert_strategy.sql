{#- The incremental strategy of models that replace rows by `unique_key`. DuckDB deletes the
    keys, then inserts; Spark has no delete+insert and merges instead, which needs a table
    format with MERGE (Delta, Iceberg, Hudi: the models' `file_format` on Spark). -#}
{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy', 'lmsbridge')()) }}
{%- endmacro %}

{% macro default__upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{#- var spark_upsert_strategy: `append` builds a first (full-refresh) build on plain Parquet
    when no Delta jars are at hand; a later incremental build would then duplicate rows. -#}
{% macro spark__upsert_strategy() -%}
    {{ return(var('spark_upsert_strategy', 'merge')) }}
{%- endmacro %}
