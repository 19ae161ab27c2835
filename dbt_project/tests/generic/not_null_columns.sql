{#- None of the given columns is null: one node per model (and one evaluation of a view)
    instead of a `not_null` test per column. -#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {{ any_null(columns) }}
{% endtest %}
