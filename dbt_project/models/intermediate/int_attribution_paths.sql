{#- Each attribution model's path of each deal (README "Attribution models: one seed row
    each"): the deal's touches in the model's own window, as a sequence of channels ordered
    by (touched_at, touchpoint_id), after the model's path transform and steps lookback. One
    row per touch KEPT; the credit formulas (fct_deal_attribution) and the data-driven
    weights (int_attribution_channel_weights) read only these rows. Written with window
    functions and dbt cross-database macros only: the project also runs on Spark. -#}
with

models as (
    select
        attribution_model,
        kind,
        lookback_days,
        lookback_steps,
        path_transform,
        transform_channels,
        channel as channel_setting,
        -- models with the same window, transform, steps and channel have the same paths:
        -- each such path spec is computed once (one spec for the default seed, not 12)
        dense_rank() over (
            order by lookback_days, lookback_steps, path_transform, transform_channels, channel
        ) as spec_id
    from {{ ref('int_attribution_models') }}
),

specs as (
    select distinct
        spec_id,
        lookback_days,
        lookback_steps,
        path_transform,
        transform_channels,
        channel_setting
    from models
),

deals as (
    select
        hubspot_deal_id,
        deal_status,
        created_at
    from {{ ref('stg_hubspot__deals') }}
),

windowed as (
    -- int_deal_touchpoints holds the longest window; each model keeps its own
    select
        specs.spec_id,
        specs.lookback_days,
        specs.lookback_steps,
        specs.path_transform,
        specs.transform_channels,
        touches.*,
        case
            when specs.channel_setting = 'course_category' then touches.channel_category
            else touches.channel_course
        end as channel
    from specs
    inner join {{ ref('int_deal_touchpoints') }} as touches
        on touches.touched_at >= {{ dbt.dateadd('day', '-1 * specs.lookback_days', 'touches.anchor_at') }}
),

flagged as (
    select
        *,
        -- whole-item match in the '|' separated list ("a" must not match "ab")
        coalesce(
            {{ dbt.position(
                dbt.concat(["'|'", "channel", "'|'"]),
                dbt.concat(["'|'", "transform_channels", "'|'"])
            ) }} > 0,
            false
        ) as is_transform_channel
    from windowed
),

sequenced as (
    select
        *,
        row_number() over (
            partition by spec_id, deal_id order by touched_at, touchpoint_id
        ) as path_position,
        lag(channel) over (
            partition by spec_id, deal_id order by touched_at, touchpoint_id
        ) as previous_channel,
        row_number() over (
            partition by spec_id, deal_id, channel order by touched_at, touchpoint_id
        ) as channel_position,
        sum(case when is_transform_channel then 0 else 1 end) over (
            partition by spec_id, deal_id
        ) as other_channel_touches
    from flagged
),

last_other as (
    select
        *,
        -- the trailing run of transform channels starts after this position
        max(case when not is_transform_channel then path_position end) over (
            partition by spec_id, deal_id
        ) as last_other_position
    from sequenced
),

transformed as (
    select * from last_other
    where
        case path_transform
            when 'exposure' then previous_channel is null or previous_channel <> channel
            when 'first' then channel_position = 1
            -- dropping every touch would leave no path: keep them all instead
            when 'remove_if_not_all' then not is_transform_channel or other_channel_touches = 0
            when 'remove_if_last_and_not_all'
                then last_other_position is null or path_position <= last_other_position
            else true
        end
),

stepped as (
    select
        *,
        row_number() over (
            partition by spec_id, deal_id order by touched_at desc, touchpoint_id desc
        ) as steps_from_end
    from transformed
),

kept as (
    select * from stepped
    where lookback_steps is null or steps_from_end <= lookback_steps
),

path_channels as (
    select distinct
        spec_id,
        deal_id,
        channel
    from kept
),

path_keys as (
    select
        spec_id,
        deal_id,
        {{ sorted_listagg('channel', "' + '") }} as path_key
    from path_channels
    group by spec_id, deal_id
),

numbered as (
    -- positions and counts per path spec, before the spec is fanned out to its models
    select
        kept.spec_id,
        kept.deal_id,
        kept.touchpoint_id,
        kept.touch_source,
        kept.hubspot_contact_id,
        kept.learner_key,
        kept.course_id,
        kept.course_name,
        kept.event_type,
        kept.touched_at,
        kept.touch_type_weight,
        kept.deal_amount,
        kept.deal_created_at,
        kept.anchor_at,
        kept.channel_course,
        kept.channel_category,
        kept.channel,
        -- row_number() is an int on Spark, a bigint on DuckDB: fct_deal_attribution's contract says bigint
        cast(row_number() over (
            partition by kept.spec_id, kept.deal_id
            order by kept.touched_at, kept.touchpoint_id
        ) as bigint) as touch_index,
        count(*) over (partition by kept.spec_id, kept.deal_id) as touch_count,
        path_keys.path_key,
        count(*) over (
            partition by kept.spec_id, kept.deal_id, kept.channel
        ) as channel_touch_count,
        case
            when deals.deal_status = 'won' then 'conversion'
            when deals.deal_status = 'lost' then 'non_conversion'
            -- an open deal older than the window is taken as not converting
            when deals.created_at < {{ dbt.dateadd('day', '-1 * kept.lookback_days', as_of_timestamp()) }}
                then 'non_conversion'
            else 'undecided'
        end as deal_outcome
    from kept
    inner join path_keys
        on kept.spec_id = path_keys.spec_id and kept.deal_id = path_keys.deal_id
    left join deals on kept.deal_id = deals.hubspot_deal_id
)

select
    models.attribution_model,
    models.kind,
    numbered.deal_id,
    numbered.touchpoint_id,
    numbered.touch_source,
    numbered.hubspot_contact_id,
    numbered.learner_key,
    numbered.course_id,
    numbered.course_name,
    numbered.event_type,
    numbered.touched_at,
    numbered.touch_type_weight,
    numbered.deal_amount,
    numbered.deal_created_at,
    numbered.anchor_at,
    numbered.channel_course,
    numbered.channel_category,
    numbered.channel,
    numbered.touch_index,
    numbered.touch_count,
    numbered.path_key,
    numbered.channel_touch_count,
    numbered.deal_outcome
from numbered
inner join models on numbered.spec_id = models.spec_id
