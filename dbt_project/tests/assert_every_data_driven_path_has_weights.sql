-- Every (model, path_key, channel) that a markov or shapley model credits has a weight in
-- int_attribution_channel_weights; a missing one would silently drop that channel's credit.
with

credited as (
    select distinct
        attribution_model,
        path_key,
        channel
    from {{ ref('int_attribution_paths') }}
    where kind in ('markov', 'shapley')
),

weighted as (
    select
        attribution_model,
        path_key,
        channel
    from {{ ref('int_attribution_channel_weights') }}
)

select
    credited.attribution_model,
    credited.path_key,
    credited.channel
from credited
left join weighted
    on
        credited.attribution_model = weighted.attribution_model
        and credited.path_key = weighted.path_key
        and credited.channel = weighted.channel
where weighted.channel is null
