{#- Pre-hook of the per-learner incremental marts (dbt_project.yml): on an incremental build,
    drop the rows of the learners whose events changed, so the build can append them anew.
    Each model declares `-- depends_on: ref('int_learning_events_changed_learners')`. -#}
{% macro delete_changed_learners() %}
    {%- if is_incremental() -%}
        delete from {{ this }} where learner_key in (
            select learner_key from {{ ref('int_learning_events_changed_learners') }}
        )
    {%- endif -%}
{% endmacro %}
