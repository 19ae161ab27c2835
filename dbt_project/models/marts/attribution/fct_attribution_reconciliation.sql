{#- Does every published attribution model hand out each deal exactly once? One row per
    (live deal, model of dim_attribution_models): the deal's amount beside what the model
    credited, and a status. A deal with no touches in a model's window is listed too
    (status no_touches), so "credited" and "not credited" add up to every deal.
    assert_attribution_reconciles fails the build on any credits_do_not_sum row. -#}
with

deals as (
    select
        hubspot_deal_id as deal_id,
        amount as deal_amount
    from {{ ref('stg_hubspot__deals') }}
),

models as (
    select attribution_model from {{ ref('dim_attribution_models') }}
),

credits as (
    select
        deal_id,
        attribution_model,
        count(*) as touch_count,
        sum(credit) as credit_sum,
        -- null when the deal has no amount (attributed_amount is null on every touch)
        sum(attributed_amount) as credited_amount
    from {{ ref('fct_deal_attribution') }}
    group by deal_id, attribution_model
),

paired as (
    select
        deals.deal_id,
        models.attribution_model,
        deals.deal_amount,
        coalesce(credits.touch_count, 0) as touch_count,
        coalesce(credits.credit_sum, 0.0) as credit_sum,
        case
            when credits.deal_id is null then 0.0
            else credits.credited_amount
        end as credited_amount
    from deals
    cross join models
    left join credits
        on
            deals.deal_id = credits.deal_id
            and models.attribution_model = credits.attribution_model
),

classified as (
    select
        *,
        deal_amount - credited_amount as amount_difference,
        case
            when touch_count = 0 then 'no_touches'
            -- checked before the amount: bad credits on an amountless deal still fail
            when abs(credit_sum - 1.0) > 1e-9 then 'credits_do_not_sum'
            when deal_amount is null then 'no_amount'
            -- cents: a credited total off by more than rounding is a broken model too
            when abs(deal_amount - credited_amount) <= 0.005 then 'reconciled'
            else 'credits_do_not_sum'
        end as status
    from paired
)

select
    cast(deal_id as {{ dbt.type_string() }}) as deal_id,
    cast(attribution_model as {{ dbt.type_string() }}) as attribution_model,
    cast(deal_amount as {{ type_double() }}) as deal_amount,
    cast(touch_count as {{ dbt.type_bigint() }}) as touch_count,
    cast(credit_sum as {{ type_double() }}) as credit_sum,
    cast(credited_amount as {{ type_double() }}) as credited_amount,
    cast(amount_difference as {{ type_double() }}) as amount_difference,
    cast(status as {{ dbt.type_string() }}) as status
from classified
