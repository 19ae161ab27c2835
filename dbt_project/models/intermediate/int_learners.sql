{#- One row per learner. A learner is a LearnWorlds user id (seen in the users feed, a webhook,
    the history CSV or any activity feed), or, for history rows without a LearnWorlds id, a normalized email no
    LearnWorlds learner has. -#}
with

emails as (
    select * from {{ ref('int_emails_normalized') }}
),

-- activity of a user the users feed has not delivered yet must not be dropped
activity_with_email as (
    select
        lms_user_id,
        user_email
    from {{ ref('stg_learnworlds__certificates') }}
    where lms_user_id is not null
    union all
    select
        lms_user_id,
        user_email
    from {{ ref('stg_learnworlds__grades') }}
    where lms_user_id is not null
),

activity_without_email as (
    select lms_user_id from {{ ref('stg_learnworlds__enrollments') }}
    union all
    select lms_user_id from {{ ref('stg_learnworlds__user_progress') }}
    union all
    select lms_user_id from {{ ref('stg_learnworlds__payments') }}
    where lms_user_id is not null
),

id_sightings as (
    select
        lms_user_id,
        email,
        marketing_consent,
        created_at as signed_up_at,
        'learnworlds' as lms_source,
        1 as source_priority
    from {{ ref('stg_learnworlds__users') }}
    union all
    select
        lms_user_id,
        user_email as email,
        false as marketing_consent,
        received_at as signed_up_at,
        'learnworlds' as lms_source,
        2 as source_priority
    from {{ ref('stg_learnworlds__webhook_events') }}
    where lms_user_id is not null
    union all
    select
        lms_user_id,
        learner_email as email,
        false as marketing_consent,
        occurred_at as signed_up_at,
        lms as lms_source,
        3 as source_priority
    from {{ ref('stg_lms_files__history_events') }}
    where lms_user_id is not null and lms = 'learnworlds'
    union all
    select
        lms_user_id,
        user_email as email,
        false as marketing_consent,
        cast(null as {{ lmsbridge.type_timestamptz() }}) as signed_up_at,
        'learnworlds' as lms_source,
        4 as source_priority
    from activity_with_email
    union all
    select
        lms_user_id,
        cast(null as {{ dbt.type_string() }}) as email,
        false as marketing_consent,
        cast(null as {{ lmsbridge.type_timestamptz() }}) as signed_up_at,
        'learnworlds' as lms_source,
        5 as source_priority
    from activity_without_email
),

id_ranked as (
    select
        *,
        -- the users feed is authoritative; webhooks and history fill in users it lacks
        row_number() over (
            partition by lms_user_id
            order by source_priority asc, signed_up_at desc nulls last, email asc
        ) as sighting_rank
    from id_sightings
),

id_learners as (
    select
        {{ generate_surrogate_key(["'lms'", 'id_ranked.lms_user_id']) }} as learner_key,
        id_ranked.lms_user_id,
        id_ranked.email,
        emails.email_normalized,
        id_ranked.marketing_consent,
        id_ranked.signed_up_at,
        id_ranked.lms_source
    from id_ranked
    left join emails on id_ranked.email = emails.email_raw
    where id_ranked.sighting_rank = 1
),

history_without_id as (
    select
        history.learner_email,
        history.occurred_at,
        history.lms,
        emails.email_normalized
    from {{ ref('stg_lms_files__history_events') }} as history
    inner join emails on history.learner_email = emails.email_raw
    where history.lms_user_id is null or history.lms <> 'learnworlds'
),

email_ranked as (
    select
        history_without_id.*,
        row_number() over (
            partition by history_without_id.email_normalized
            order by history_without_id.occurred_at asc, history_without_id.learner_email asc
        ) as sighting_rank
    from history_without_id
    left join id_learners
        on history_without_id.email_normalized = id_learners.email_normalized
    where id_learners.learner_key is null
),

email_learners as (
    select
        {{ generate_surrogate_key(["'email'", 'email_normalized']) }} as learner_key,
        cast(null as {{ dbt.type_string() }}) as lms_user_id,
        learner_email as email,
        email_normalized,
        false as marketing_consent,
        occurred_at as signed_up_at,
        lms as lms_source
    from email_ranked
    where sighting_rank = 1
),

final as (
    select * from id_learners
    union all
    select * from email_learners
)

select
    learner_key,
    lms_user_id,
    email,
    email_normalized,
    {{ dbt.split_part('email_normalized', "'@'", 2) }} as email_domain,
    marketing_consent,
    signed_up_at,
    lms_source
from final
