{#- Learner account events: what happened to the learner's account rather than in a course
    (signing up, a first purchase, tags, unenrolments, subscriptions). Their types are the
    event_types rows with in_learning_events false; they never enter fct_learning_events, so
    every learning mart stays as it is, and only rev_etl__hubspot_activities reads them.
    user_deleted is in the catalog but has no feed: LearnWorlds documents no user-deleted
    webhook, and the extract lands no deletion (it would need users that disappear from
    GET /v2/users recorded as tombstones in raw_lms.users). -#}
with

account_types as (
    select
        event_type,
        learnworlds_webhook_type
    from {{ ref('event_types') }}
    -- CRM engagement touches (calls, emails, meetings) are not learner events
    where not in_learning_events and hubspot_engagement_type is null
),

signed_up as (
    -- the account's creation time; userUpdated also fires on profile updates, so it is not used
    select
        {{ generate_surrogate_key(["'lms'", 'lms_user_id']) }} as learner_key,
        'signed_up' as event_type,
        cast(null as {{ dbt.type_string() }}) as course_id,
        cast(null as {{ dbt.type_string() }}) as subject,
        created_at as occurred_at,
        cast({{ epoch_second_floor('created_at') }} as {{ dbt.type_string() }}) as occurrence_ref,
        'api' as source,
        1 as source_rank
    from {{ ref('stg_learnworlds__users') }}
    where lms_user_id is not null
),

purchases as (
    -- every feed's purchases (API payments, productBought webhooks, history rows)
    select
        learner_key,
        course_id,
        course_name,
        occurred_at,
        source,
        source_rank,
        row_number() over (
            partition by learner_key
            order by occurred_at asc, source_rank asc, course_id asc
        ) as purchase_order
    from {{ ref('int_learning_events_unioned') }}
    where event_type = 'purchase'
),

first_purchase as (
    select
        learner_key,
        'first_purchase' as event_type,
        course_id,
        coalesce(course_name, course_id) as subject,
        occurred_at,
        cast({{ epoch_second_floor('occurred_at') }} as {{ dbt.type_string() }}) as occurrence_ref,
        source,
        source_rank
    from purchases
    where purchase_order = 1
),

webhooks as (
    -- where each payload keeps its learner, product and time is LearnWorlds' shape per type
    select
        webhooks.webhook_type,
        account_types.event_type,
        coalesce(webhooks.lms_user_id, webhooks.nested_user_id, webhooks.data_root_user_id)
            as lms_user_id,
        case webhooks.webhook_type
            when 'subscriptionPaymentPlanBought'
                then coalesce(webhooks.payment_product_id, webhooks.payment_product_json_id)
            when 'userUnenrolledFromProduct' then webhooks.product_id
            when 'subscriptionPaymentPlanCanceled' then webhooks.product_id
        end as course_id,
        case webhooks.webhook_type
            when 'userTagAdded' then webhooks.tag_name
            when 'userTagDeleted' then webhooks.tag_name
            when 'subscriptionPaymentPlanBought'
                then coalesce(webhooks.payment_product_id, webhooks.payment_product_json_id)
            else coalesce(webhooks.product_title, webhooks.product_id)
        end as subject,
        -- subscriptions carry data.date; the others carry no time, so receipt is the best we
        -- have for the note, and the event is told apart by its delivery (a redelivery merges
        -- onto the same delivery id with a later received_at: same event, same id)
        case
            when
                webhooks.webhook_type
                in ('subscriptionPaymentPlanBought', 'subscriptionPaymentPlanCanceled')
                then coalesce(webhooks.event_date_at, webhooks.received_at)
            else webhooks.received_at
        end as occurred_at,
        coalesce(
            cast({{ epoch_second_floor('webhooks.event_date_at') }} as {{ dbt.type_string() }}),
            webhooks.webhook_delivery_id
        ) as occurrence_ref
    from {{ ref('stg_learnworlds__webhook_events') }} as webhooks
    inner join account_types
        on webhooks.webhook_type = account_types.learnworlds_webhook_type
),

webhook_events as (
    select
        {{ generate_surrogate_key(["'lms'", 'lms_user_id']) }} as learner_key,
        event_type,
        course_id,
        subject,
        occurred_at,
        occurrence_ref,
        'webhook' as source,
        2 as source_rank
    from webhooks
    where lms_user_id is not null
),

unioned as (
    select * from signed_up
    union all
    select * from first_purchase
    union all
    select * from webhook_events
),

keyed as (
    select
        {{ generate_surrogate_key([
            'unioned.learner_key', 'unioned.event_type', 'unioned.course_id', 'unioned.subject',
            'unioned.occurrence_ref'
        ]) }} as event_id,
        unioned.*
    from unioned
    -- only types the catalog declares as account events (a type removed from the seed is gone)
    inner join account_types on unioned.event_type = account_types.event_type
    where unioned.learner_key is not null and unioned.occurred_at is not null
),

ranked as (
    -- the same event reported twice (e.g. two deliveries of one tag change) is one event
    select
        *,
        row_number() over (partition by event_id order by source_rank asc) as report_order
    from keyed
)

select
    event_id,
    learner_key,
    event_type,
    course_id,
    subject,
    occurred_at,
    source,
    source_rank
from ranked
where report_order = 1
