{#- A touch needs a weight for the weighted model, and a timeline note needs its wording:
    without them the event would silently get no credit or a note starting with nothing. -#}
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
