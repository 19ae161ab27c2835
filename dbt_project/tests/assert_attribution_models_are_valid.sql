{#- Each attribution_models seed row must describe a model fct_deal_attribution can compute.
    A failing row names the model and what is wrong with its row (README "Attribution
    models: one seed row each"). -#}
with

models as (
    select * from {{ ref('int_attribution_models') }}
),

problems as (
    select
        attribution_model,
        'kind ' || coalesce(kind, '(empty)') || ' is none of first_touch, last_touch, linear, '
        || 'u_shaped, w_shaped, full_path, j_shaped, inverse_j, time_decay, weighted, markov, shapley'
            as problem
    from models
    where
        kind is null
        or kind not in (
            'first_touch', 'last_touch', 'linear', 'u_shaped', 'w_shaped', 'full_path',
            'j_shaped', 'inverse_j', 'time_decay', 'weighted', 'markov', 'shapley'
        )

    union all

    select
        attribution_model,
        'path_transform ' || path_transform || ' is none of none, unique, exposure, first, '
        || 'remove_if_not_all, remove_if_last_and_not_all' as problem
    from models
    where path_transform not in (
            'none', 'unique', 'exposure', 'first', 'remove_if_not_all', 'remove_if_last_and_not_all'
        )

    union all

    select
        attribution_model,
        'path_transform ' || path_transform || ' needs transform_channels (the channels to drop, '
        || '''|'' separated)' as problem
    from models
    where path_transform like 'remove_if_%' and transform_channels is null

    union all

    select
        attribution_model,
        'lookback_steps must be at least 1 when set' as problem
    from models
    where lookback_steps < 1

    union all

    select
        attribution_model,
        'channel ' || channel || ' is neither course nor course_category' as problem
    from models
    where channel not in ('course', 'course_category')

    union all

    select
        attribution_model,
        'lookback_days must be at least 0 and half_life_days above 0' as problem
    from models
    where lookback_days < 0 or half_life_days <= 0
)

select * from problems
