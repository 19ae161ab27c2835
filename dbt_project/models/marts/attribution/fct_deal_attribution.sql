{#- Credit of every touchpoint of a deal under each attribution model (README "Attribution
    models: one seed row each"; the 7 original kinds exactly as DESIGN.md defines them). One
    row per (deal, touchpoint, model) on the model's path (int_attribution_paths: its
    window, transform and steps); credits of a (deal, model) sum to 1. The formula is the
    model's kind, its weights and half-life come from int_attribution_models. Learning and
    CRM touches (touch_source) share the credit: the learning share of a deal is the sum
    over its learning touches. -#}
{#- j_shaped and inverse_j: first and last get their weights (or split 1 in their ratio when
    there are only two touches), the middle weight is split over the others. -#}
{%- set first_last_middle_credit -%}
    case
                    when touch_count = 1 then 1.0
                    when touch_count = 2 and touch_index = 1 then first_weight / (first_weight + last_weight)
                    when touch_count = 2 then last_weight / (first_weight + last_weight)
                    when touch_index = 1 then first_weight
                    when touch_index = touch_count then last_weight
                    else middle_weight / (touch_count - 2)
                end
{%- endset %}
with

paths as (
    select * from {{ ref('int_attribution_paths') }}
),

models as (
    select
        attribution_model,
        first_weight,
        last_weight,
        middle_weight,
        lead_weight,
        opportunity_weight,
        half_life_days
    from {{ ref('int_attribution_models') }}
),

channel_weights as (
    -- markov and shapley: each channel's share of a path (int_attribution_channel_weights)
    select
        attribution_model,
        path_key,
        channel,
        channel_weight
    from {{ ref('int_attribution_channel_weights') }}
),

associations as (
    select * from {{ ref('stg_hubspot__associations') }}
),

deal_leads as (
    -- full_path's lead creation: when the first of the deal's contacts was created
    select
        associations.from_object_id as deal_id,
        min(contacts.created_at) as lead_created_at
    from associations
    inner join {{ ref('stg_hubspot__contacts') }} as contacts
        on associations.to_object_id = contacts.hubspot_contact_id
    where associations.from_object_type = 'deals' and associations.to_object_type = 'contacts'
    group by associations.from_object_id
),

positioned as (
    select
        paths.*,
        models.first_weight,
        models.last_weight,
        models.middle_weight,
        models.lead_weight,
        models.opportunity_weight,
        deal_leads.lead_created_at,
        channel_weights.channel_weight,
        -- age in fractional days from touch to anchor
        power(
            2.0,
            -1.0 * (
                {{ epoch_seconds('paths.anchor_at') }} - {{ epoch_seconds('paths.touched_at') }}
            ) / 86400.0 / models.half_life_days
        ) as decay_weight
    from paths
    inner join models on paths.attribution_model = models.attribution_model
    left join deal_leads on paths.deal_id = deal_leads.deal_id
    left join channel_weights
        on
            paths.attribution_model = channel_weights.attribution_model
            and paths.path_key = channel_weights.path_key
            and paths.channel = channel_weights.channel
),

milestones as (
    select
        attribution_model,
        deal_id,
        -- w_shaped: the last touch at or before deal creation that is neither first nor last
        max(
            case
                when touched_at <= deal_created_at and touch_index > 1 and touch_index < touch_count
                    then touch_index
            end
        ) as w_opportunity_index,
        -- full_path: the last touch at or before lead / deal creation (else the first)
        coalesce(max(case when touched_at <= lead_created_at then touch_index end), 1) as lead_index,
        coalesce(max(case when touched_at <= deal_created_at then touch_index end), 1) as opportunity_index
    from positioned
    group by attribution_model, deal_id
),

weighted as (
    select
        positioned.*,
        coalesce(
            milestones.w_opportunity_index,
            -- else the touch at 0-based index floor((n - 1) / 2)
            {{ dbt.safe_cast('floor((positioned.touch_count - 1) / 2.0)', dbt.type_int()) }} + 1
        ) as w_opportunity_index,
        milestones.lead_index,
        milestones.opportunity_index,
        -- full_path: the touch's share of the milestone weights (several may fall on one touch)
        case when positioned.touch_index = 1 then positioned.first_weight else 0.0 end
        + case when positioned.touch_index = milestones.lead_index then positioned.lead_weight else 0.0 end
        + case
            when positioned.touch_index = milestones.opportunity_index then positioned.opportunity_weight
            else 0.0
        end
        + case when positioned.touch_index = positioned.touch_count then positioned.last_weight else 0.0 end
            as milestone_weight,
        positioned.touch_index in (
            1, milestones.lead_index, milestones.opportunity_index, positioned.touch_count
        ) as is_milestone,
        -- summed in path order: floating-point sums depend on the order, and reruns must agree
        sum(positioned.decay_weight) over (
            partition by positioned.attribution_model, positioned.deal_id
            order by positioned.touch_index
            rows between unbounded preceding and unbounded following
        ) as decay_total,
        sum(positioned.touch_type_weight) over (
            partition by positioned.attribution_model, positioned.deal_id
        ) as type_weight_total
    from positioned
    inner join milestones
        on
            positioned.attribution_model = milestones.attribution_model
            and positioned.deal_id = milestones.deal_id
),

counted as (
    select
        *,
        sum(case when is_milestone then 1 else 0 end) over (
            partition by attribution_model, deal_id
        ) as milestone_touch_count
    from weighted
),

credited as (
    select
        *,
        case kind
            when 'first_touch' then case when touch_index = 1 then 1.0 else 0.0 end
            when 'last_touch' then case when touch_index = touch_count then 1.0 else 0.0 end
            when 'linear' then 1.0 / touch_count
            when 'u_shaped'
                then
                    case
                        when touch_count = 1 then 1.0
                        when touch_count = 2 then 0.5
                        when touch_index = 1 then first_weight
                        when touch_index = touch_count then last_weight
                        else middle_weight / (touch_count - 2)
                    end
            when 'w_shaped'
                then
                    case
                        when touch_count = 1 then 1.0
                        when touch_count = 2 then 0.5
                        -- three touches are all milestones: they share the remainder too
                        when touch_count = 3 and touch_index = 1 then first_weight + middle_weight / 3.0
                        when touch_count = 3 and touch_index = 3 then last_weight + middle_weight / 3.0
                        when touch_count = 3 then opportunity_weight + middle_weight / 3.0
                        when touch_index = 1 then first_weight
                        when touch_index = touch_count then last_weight
                        when touch_index = w_opportunity_index then opportunity_weight
                        else middle_weight / (touch_count - 3)
                    end
            when 'j_shaped' then {{ first_last_middle_credit }}
            when 'inverse_j' then {{ first_last_middle_credit }}
            when 'full_path'
                then
                    case
                        when touch_count = 1 then 1.0
                        -- every touch holds a milestone: they share the middle weight too
                        when milestone_touch_count = touch_count
                            then milestone_weight + middle_weight / milestone_touch_count
                        when is_milestone then milestone_weight
                        else middle_weight / (touch_count - milestone_touch_count)
                    end
            when 'time_decay' then decay_weight / decay_total
            when 'weighted'
                then
                    case
                        when type_weight_total > 0 then touch_type_weight / type_weight_total
                        else 1.0 / touch_count
                    end
            -- the channel's share is split evenly over its touches in the path
            when 'markov' then channel_weight / channel_touch_count
            when 'shapley' then channel_weight / channel_touch_count
        -- a kind without a formula here gets null credit (assert_attribution_models_have_a_formula)
        end as credit_value
    from counted
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
    cast(credit_value as {{ type_double() }}) as credit,
    cast(credit_value as {{ type_double() }}) * deal_amount as attributed_amount,
    kind,
    channel,
    path_key
from credited
