{#- The incremental strategy of models that replace rows by `unique_key`. DuckDB deletes the
    keys, then inserts; Spark has no delete+insert and merges instead, which needs a table
    format with MERGE (Delta, Iceberg, Hudi: the models' `file_format` on Spark). -#}
{% macro upsert_strategy() -%}
    {{ return(adapter.dispatch('upsert_strategy', 'lmsbridge')()) }}
{%- endmacro %}

{% macro default__upsert_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}

{#- Plain Parquet has no MERGE: there every Spark build is a full refresh (the pipeline passes
    --full-refresh, docs/spark.md), for which `append` only has to create the table. -#}
{% macro spark__upsert_strategy() -%}
    {%- set file_format = env_var('LMSBRIDGE_SPARK_FILE_FORMAT', 'parquet') -%}
    {{ return('merge' if file_format in ('delta', 'iceberg', 'hudi') else 'append') }}
{%- endmacro %}
