{#- Credit of every touchpoint of a deal under each attribution model, exactly as DESIGN.md
    defines them. One row per (deal, touchpoint, model); credits of a (deal, model) sum to 1.
    Learning and CRM touches (touch_source) share the credit: the learning share of a deal is
    the sum over its learning touches.
    Touches are ordered by (touched_at, touchpoint_id) so ties are deterministic. -#}
{%- set uf = var('u_shaped_first_weight') -%}
{%- set ul = var('u_shaped_last_weight') -%}
{%- set um = var('u_shaped_middle_weight') -%}
{%- set wf = var('w_shaped_first_weight') -%}
{%- set wl = var('w_shaped_last_weight') -%}
{%- set wo = var('w_shaped_opportunity_weight') -%}
{%- set wr = var('w_shaped_other_weight') -%}
{%- set half_life = var('half_life_days') -%}

with

touches as (
    select * from {{ ref('int_deal_touchpoints') }}
),

positioned as (
    select
        *,
        row_number() over (
            partition by deal_id order by touched_at, touchpoint_id
        ) as touch_index,
        count(*) over (partition by deal_id) as touch_count,
        -- age in fractional days from touch to anchor
        power(
            2.0,
            -1.0 * (
                {{ epoch_seconds('anchor_at') }} - {{ epoch_seconds('touched_at') }}
            ) / 86400.0 / {{ half_life }}
        ) as decay_weight
    from touches
),

opportunity_touches as (
    -- the last touch at or before the deal was created that is neither first nor last
    select
        deal_id,
        max(touch_index) as opportunity_index
    from positioned
    where touched_at <= deal_created_at and touch_index > 1 and touch_index < touch_count
    group by deal_id
),

weighted as (
    select
        positioned.*,
        coalesce(
            opportunity_touches.opportunity_index,
            -- else the touch at 0-based index floor((n - 1) / 2)
            {{ dbt.safe_cast('floor((positioned.touch_count - 1) / 2.0)', dbt.type_int()) }} + 1
        ) as opportunity_index,
        sum(positioned.decay_weight) over (partition by positioned.deal_id) as decay_total,
        sum(positioned.touch_type_weight) over (partition by positioned.deal_id) as type_weight_total
    from positioned
    left join opportunity_touches on positioned.deal_id = opportunity_touches.deal_id
),

credited as (
    select
        *,
        case when touch_index = 1 then 1.0 else 0.0 end as credit_first_touch,
        case when touch_index = touch_count then 1.0 else 0.0 end as credit_last_touch,
        1.0 / touch_count as credit_linear,
        case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            when touch_index = 1 then {{ uf }}
            when touch_index = touch_count then {{ ul }}
            else {{ um }} / (touch_count - 2)
        end as credit_u_shaped,
        case
            when touch_count = 1 then 1.0
            when touch_count = 2 then 0.5
            -- three touches are all milestones: they share the remainder too
            when touch_count = 3 and touch_index = 1 then {{ wf }} + {{ wr }} / 3.0
            when touch_count = 3 and touch_index = 3 then {{ wl }} + {{ wr }} / 3.0
            when touch_count = 3 then {{ wo }} + {{ wr }} / 3.0
            when touch_index = 1 then {{ wf }}
            when touch_index = touch_count then {{ wl }}
            when touch_index = opportunity_index then {{ wo }}
            else {{ wr }} / (touch_count - 3)
        end as credit_w_shaped,
        decay_weight / decay_total as credit_time_decay,
        case
            when type_weight_total > 0 then touch_type_weight / type_weight_total
            else 1.0 / touch_count
        end as credit_weighted
    from weighted
),

models as (
    -- the attribution_models seed decides which models are published; a seed row naming no
    -- formula below gets null credit (assert_attribution_models_have_a_formula)
    select
        credited.deal_id,
        credited.touchpoint_id,
        credited.touch_source,
        credited.hubspot_contact_id,
        credited.learner_key,
        credited.course_id,
        credited.course_name,
        credited.event_type,
        credited.touched_at,
        credited.touch_index,
        credited.touch_count,
        attribution_models.attribution_model,
        credited.deal_amount,
        cast(
            case attribution_models.attribution_model
                when 'first_touch' then credited.credit_first_touch
                when 'last_touch' then credited.credit_last_touch
                when 'linear' then credited.credit_linear
                when 'u_shaped' then credited.credit_u_shaped
                when 'w_shaped' then credited.credit_w_shaped
                when 'time_decay' then credited.credit_time_decay
                when 'weighted' then credited.credit_weighted
            end as {{ type_double() }}
        ) as credit
    from credited
    cross join {{ ref('attribution_models') }} as attribution_models
)

select
    {{ generate_surrogate_key(['deal_id', 'touchpoint_id', 'attribution_model']) }} as attribution_key,
    deal_id,
    touchpoint_id,
    touch_source,
    hubspot_contact_id,
    learner_key,
    course_id,
    course_name,
    event_type,
    touched_at,
    touch_index,
    touch_count,
    attribution_model,
    credit,
    credit * deal_amount as attributed_amount
from models
