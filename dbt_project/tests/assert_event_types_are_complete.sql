{#- A touch needs a weight for the weighted model, and a timeline note needs its wording:
    without them the event would silently get no credit or a note starting with nothing.
    Learning touches and sales tasks come from fct_learning_events only, so a learner account
    event (in_learning_events false) flagged as either would silently do nothing. CRM touch
    rows (hubspot_engagement_type set) are touches read from HubSpot engagements instead, and
    nothing but int_deal_touchpoints reads them: flagged as anything else they would do nothing. -#}
select
    event_type,
    'touch without a non-negative touch_weight' as problem
from {{ ref('event_types') }}
where is_touch and (touch_weight is null or touch_weight < 0)
union all
select
    event_type,
    'in_activity_feed without an activity_note_label' as problem
from {{ ref('event_types') }}
where in_activity_feed and nullif(trim(activity_note_label), '') is null
union all
select
    event_type,
    'is_touch on a learner account event (touches come from fct_learning_events)' as problem
from {{ ref('event_types') }}
where is_touch and not in_learning_events and nullif(trim(hubspot_engagement_type), '') is null
union all
select
    event_type,
    'nudges_sales on a learner account event (tasks come from fct_learning_events)' as problem
from {{ ref('event_types') }}
where nudges_sales and not in_learning_events
union all
select
    event_type,
    'a CRM touch (hubspot_engagement_type) flagged as a learning event, note or sales nudge'
        as problem
from {{ ref('event_types') }}
where
    nullif(trim(hubspot_engagement_type), '') is not null
    and (in_learning_events or in_activity_feed or nudges_sales)
