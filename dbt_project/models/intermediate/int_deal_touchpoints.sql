{#- Learning events that touch a deal (DESIGN.md attribution): events of the deal's contacts
    (and, with var include_company_contacts, of its companies' contacts), of a type flagged
    is_touch in the event_types seed, within [anchor - lookback_days, anchor], both ends included.
    anchor = closedate, else the build's as_of. -#}
with

deals as (
    select
        hubspot_deal_id,
        amount,
        created_at as deal_created_at,
        coalesce(closed_at, {{ as_of_timestamp() }}) as anchor_at
    from {{ ref('stg_hubspot__deals') }}
),

associations as (
    select * from {{ ref('stg_hubspot__associations') }}
),

deal_contacts as (
    select
        from_object_id as hubspot_deal_id,
        to_object_id as hubspot_contact_id
    from associations
    where from_object_type = 'deals' and to_object_type = 'contacts'
    {% if var('include_company_contacts') %}
        union
        select
            deal_companies.from_object_id,
            contact_companies.from_object_id
        from associations as deal_companies
        inner join associations as contact_companies
            on deal_companies.to_object_id = contact_companies.to_object_id
        where
            deal_companies.from_object_type = 'deals'
            and deal_companies.to_object_type = 'companies'
            and contact_companies.from_object_type = 'contacts'
            and contact_companies.to_object_type = 'companies'
    {% endif %}
),

events as (
    select * from {{ ref('fct_learning_events') }}
    where hubspot_contact_id is not null
),

touch_types as (
    select
        event_type,
        touch_weight
    from {{ ref('event_types') }}
    where is_touch
)

select distinct
    deals.hubspot_deal_id as deal_id,
    events.event_id as touchpoint_id,
    events.hubspot_contact_id,
    events.learner_key,
    events.course_id,
    events.course_name,
    events.event_type,
    events.occurred_at as touched_at,
    touch_types.touch_weight as touch_type_weight,
    deals.amount as deal_amount,
    deals.deal_created_at,
    deals.anchor_at
from deals
inner join deal_contacts on deals.hubspot_deal_id = deal_contacts.hubspot_deal_id
inner join events on deal_contacts.hubspot_contact_id = events.hubspot_contact_id
inner join touch_types on events.event_type = touch_types.event_type
where
    events.occurred_at >= {{ dbt.dateadd('day', -1 * var('lookback_days'), 'deals.anchor_at') }}
    and events.occurred_at <= deals.anchor_at
