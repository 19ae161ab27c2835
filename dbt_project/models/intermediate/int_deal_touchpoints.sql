{#- Touches of each deal (DESIGN.md attribution), of a type flagged is_touch in the
    event_types seed, within [anchor - lookback_days, anchor], both ends included;
    anchor = closedate, else the build's as_of. lookback_days is the longest window of all
    attribution models (int_attribution_models); int_attribution_paths narrows it per model.
    - learning: learning events of the deal's contacts (and, with var include_company_contacts,
      of its companies' contacts);
    - crm (var include_crm_touches): HubSpot calls, emails and meetings associated with those
      contacts, typed by the seed row naming their hubspot_engagement_type. One touch per
      engagement and deal, however many of the deal's contacts it involved; activities that
      did not take place (a canceled or no-show meeting, a failed or canceled call, a bounced
      or failed email) are no touch. -#}
with

windows as (
    select max(lookback_days) as lookback_days
    from {{ ref('int_attribution_models') }}
),

deals as (
    select
        hubspot_deals.hubspot_deal_id,
        hubspot_deals.amount,
        hubspot_deals.created_at as deal_created_at,
        coalesce(hubspot_deals.closed_at, {{ as_of_timestamp() }}) as anchor_at,
        {{ dbt.dateadd(
            'day',
            '-1 * windows.lookback_days',
            'coalesce(hubspot_deals.closed_at, ' ~ as_of_timestamp() ~ ')'
        ) }} as window_start_at
    from {{ ref('stg_hubspot__deals') }} as hubspot_deals
    cross join windows
),

course_categories as (
    select
        course_id,
        category
    from {{ ref('int_course_rules_resolved') }}
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

-- Each (deal, contact) pair with the deal's window, computed once and read as one relation:
-- joined to the contact's events and engagements by contact id (an equality), and only then
-- filtered by the window. Left to itself, DuckDB may join deals to engagements by the window
-- alone first when its estimates say a side is small: 160M rows at 100k learners, 60 s for
-- a model that takes 0.2 s.
deal_contact_windows as {{ materialized_cte() }} (
    select
        deals.hubspot_deal_id,
        deal_contacts.hubspot_contact_id,
        deals.amount,
        deals.deal_created_at,
        deals.anchor_at,
        deals.window_start_at
    from deals
    inner join deal_contacts on deals.hubspot_deal_id = deal_contacts.hubspot_deal_id
),

events as (
    select * from {{ ref('fct_learning_events') }}
    where hubspot_contact_id is not null
),

touch_types as (
    select
        event_type,
        touch_weight,
        nullif(trim(hubspot_engagement_type), '') as hubspot_engagement_type
    from {{ ref('event_types') }}
    where is_touch
),

learning_touches as (
    select distinct
        deal_contact_windows.hubspot_deal_id as deal_id,
        events.event_id as touchpoint_id,
        'learning' as touch_source,
        events.hubspot_contact_id,
        events.learner_key,
        events.course_id,
        events.course_name,
        events.event_type,
        events.occurred_at as touched_at,
        touch_types.touch_weight as touch_type_weight,
        deal_contact_windows.amount as deal_amount,
        deal_contact_windows.deal_created_at,
        deal_contact_windows.anchor_at,
        events.course_id as channel_course,
        coalesce(course_categories.category, 'uncategorized') as channel_category
    from deal_contact_windows
    inner join events
        on deal_contact_windows.hubspot_contact_id = events.hubspot_contact_id
    inner join touch_types on events.event_type = touch_types.event_type
    left join course_categories on events.course_id = course_categories.course_id
    where
        events.occurred_at >= deal_contact_windows.window_start_at
        and events.occurred_at <= deal_contact_windows.anchor_at
),

engagements as (
    select * from {{ ref('stg_hubspot__engagements') }}
    where coalesce(status, '') not in ('CANCELED', 'NO_SHOW', 'FAILED', 'BOUNCED')
),

engagement_contacts as (
    select distinct
        from_object_type as engagement_type,
        from_object_id as hubspot_engagement_id,
        to_object_id as hubspot_contact_id
    from associations
    where to_object_type = 'contacts' and from_object_type in ('calls', 'emails', 'meetings')
),

crm_candidates as (
    select
        deal_contact_windows.hubspot_deal_id as deal_id,
        engagements.engagement_key as touchpoint_id,
        deal_contact_windows.hubspot_contact_id,
        touch_types.event_type,
        engagements.occurred_at as touched_at,
        touch_types.touch_weight as touch_type_weight,
        deal_contact_windows.amount as deal_amount,
        deal_contact_windows.deal_created_at,
        deal_contact_windows.anchor_at,
        -- an engagement with several of the deal's contacts is one touch, credited to the
        -- lowest contact id so reruns agree
        row_number() over (
            partition by deal_contact_windows.hubspot_deal_id, engagements.engagement_key
            order by deal_contact_windows.hubspot_contact_id
        ) as contact_rank
    from deal_contact_windows
    inner join engagement_contacts
        on deal_contact_windows.hubspot_contact_id = engagement_contacts.hubspot_contact_id
    inner join engagements
        on
            engagement_contacts.engagement_type = engagements.engagement_type
            and engagement_contacts.hubspot_engagement_id = engagements.hubspot_engagement_id
    inner join touch_types on engagements.engagement_type = touch_types.hubspot_engagement_type
    where
        engagements.occurred_at >= deal_contact_windows.window_start_at
        and engagements.occurred_at <= deal_contact_windows.anchor_at
),

crm_touches as (
    select
        deal_id,
        touchpoint_id,
        'crm' as touch_source,
        hubspot_contact_id,
        cast(null as {{ dbt.type_string() }}) as learner_key,
        cast(null as {{ dbt.type_string() }}) as course_id,
        cast(null as {{ dbt.type_string() }}) as course_name,
        event_type,
        touched_at,
        touch_type_weight,
        deal_amount,
        deal_created_at,
        anchor_at,
        -- a CRM touch's channel is its touch type whatever the channel setting
        event_type as channel_course,
        event_type as channel_category
    from crm_candidates
    where contact_rank = 1
)

select * from learning_touches
{% if var('include_crm_touches') %}
    union all
    select * from crm_touches
{% endif %}
