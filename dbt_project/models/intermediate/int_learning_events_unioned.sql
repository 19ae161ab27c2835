{#- Learning events from the three feeds in one shape, each tagged with its learner and an
    event id that is equal for the same real event whatever feed reported it: a hash of
    learner, course, event type and the occurrence time truncated to the second.
    A view: each reader wants a small part of it (the rows of new loads, the changed
    learners' events, purchases), and the staging tables under it are incremental. -#}
{{ config(materialized='view', tags=['learning_events']) }}

with

api_events as (
    select
        lms_user_id,
        course_id,
        cast(null as {{ dbt.type_string() }}) as course_name,
        'enrolled' as event_type,
        cast(null as {{ type_double() }}) as score,
        enrolled_at as occurred_at,
        _dlt_load_id
    from {{ ref('stg_learnworlds__enrollments') }}
    union all
    select
        lms_user_id,
        course_id,
        null as course_name,
        'completed' as event_type,
        -- LearnWorlds reports 0 for a course without graded units: that is no score, not a 0
        nullif(average_score_rate, 0) as score,
        completed_at as occurred_at,
        _dlt_load_id
    from {{ ref('stg_learnworlds__user_progress') }}
    where progress_status = 'completed'
    union all
    select
        lms_user_id,
        course_id,
        null as course_name,
        'assessment_passed' as event_type,
        grade as score,
        coalesce(submitted_at, created_at) as occurred_at,
        _dlt_load_id
    from {{ ref('stg_learnworlds__grades') }}
    where grade >= {{ var('pass_mark') }}
    union all
    select
        lms_user_id,
        course_id,
        null as course_name,
        'certificate_issued' as event_type,
        score,
        issued_at as occurred_at,
        _dlt_load_id
    from {{ ref('stg_learnworlds__certificates') }}
    union all
    -- payment creation time, because that is what the productBought webhook carries
    select
        lms_user_id,
        product_id as course_id,
        product_name as course_name,
        'purchase' as event_type,
        null as score,
        coalesce(created_at, paid_at) as occurred_at,
        _dlt_load_id
    from {{ ref('stg_learnworlds__payments') }}
),

webhook_events as (
    -- the event type comes from the event_types seed; where each payload keeps its course,
    -- score and time is LearnWorlds' shape per webhook type, so that stays here
    select
        webhooks.lms_user_id,
        case
            when webhooks.webhook_type = 'awardedCertificate' then webhooks.certificate_course_id
            when webhooks.webhook_type = 'productBought' then webhooks.payment_product_id
            else webhooks.course_id
        end as course_id,
        webhooks.course_title as course_name,
        event_types.event_type,
        case
            when webhooks.webhook_type = 'awardedCertificate' then webhooks.certificate_score
        end as score,
        case webhooks.webhook_type
            when 'courseCompleted' then webhooks.completed_at
            when 'awardedCertificate' then webhooks.certificate_issued_at
            when 'enrolledFreeCourse' then webhooks.event_date_at
            when 'productBought' then webhooks.payment_created_at
        end as occurred_at,
        webhooks._dlt_load_id
    from {{ ref('stg_learnworlds__webhook_events') }} as webhooks
    inner join {{ ref('event_types') }} as event_types
        on
            webhooks.webhook_type = event_types.learnworlds_webhook_type
            -- learner account events (tags, unenrolments, subscriptions) are built in
            -- int_learner_account_events and never become learning events
            and event_types.in_learning_events
),

id_events as (
    select
        *,
        'api' as source,
        1 as source_rank
    from api_events
    union all
    select
        *,
        'webhook' as source,
        2 as source_rank
    from webhook_events
),

id_keyed as (
    select
        {{ generate_surrogate_key(["'lms'", 'lms_user_id']) }} as learner_key,
        course_id,
        course_name,
        event_type,
        score,
        occurred_at,
        source,
        source_rank,
        _dlt_load_id
    from id_events
),

history as (
    select
        history.*,
        emails.email_normalized
    from {{ ref('stg_lms_files__history_events') }} as history
    left join {{ ref('int_emails_normalized') }} as emails
        on history.learner_email = emails.email_raw
    -- the file may carry types we do not keep (extract accepts a wider list), and learner
    -- account events (e.g. unenrolled) are not learning events
    where
        history.event_type in (
            select event_types.event_type from {{ ref('event_types') }} as event_types
            where event_types.in_learning_events
        )
),

history_keyed as (
    select
        case
            when history.lms = 'learnworlds' and history.lms_user_id is not null
                then {{ generate_surrogate_key(["'lms'", 'history.lms_user_id']) }}
            else lookup.learner_key
        end as learner_key,
        history.course_id,
        history.course_name,
        history.event_type,
        history.score,
        history.occurred_at,
        'csv' as source,
        3 as source_rank,
        history._dlt_load_id
    from history
    left join {{ ref('int_learner_email_lookup') }} as lookup
        on history.email_normalized = lookup.email_normalized
),

unioned as (
    select * from id_keyed
    union all
    select * from history_keyed
)

select
    {{ generate_surrogate_key([
        'learner_key', 'course_id', 'event_type', epoch_second_floor('occurred_at')
    ]) }} as event_id,
    *
from unioned
where learner_key is not null and course_id is not null and occurred_at is not null
