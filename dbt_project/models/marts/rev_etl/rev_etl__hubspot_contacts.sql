{#- Exactly what the reverse ETL writes to HubSpot contacts (docs/contracts.md section 4).
    Conflicted learners are left out: pushing them would mean guessing. Unmatched learners
    sharing an email keep one row (oldest id) so a create-by-email cannot collide. Nothing here
    changes between runs unless the underlying data does. -#}
with

learners as (
    select * from {{ ref('dim_learners') }}
),

engagement as (
    select * from {{ ref('fct_learner_engagement') }}
),

conflicted as (
    select distinct learner_key
    from {{ ref('identity_conflicts') }}
    where conflict_scope = 'contact'
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

stages as (
    select * from {{ ref('lifecycle_stages') }}
),

-- emails of contacts someone archived in HubSpot: never re-created from a learner
archived_emails as (
    select distinct emails.email_normalized
    from {{ ref('stg_hubspot__archived_contacts') }} as archived
    inner join {{ ref('int_emails_normalized') }} as emails on archived.email = emails.email_raw
),

eligible as (
    select
        learners.*,
        row_number() over (
            partition by
                case when learners.hubspot_contact_id is null then learners.email_normalized end
            order by learners.lms_user_id nulls last, learners.learner_key
        ) as email_rank
    from learners
    left join conflicted on learners.learner_key = conflicted.learner_key
    where conflicted.learner_key is null and learners.email_normalized is not null
),

lifecycle as (
    select
        eligible.learner_key,
        target_stage_order.stage as target_stage,
        target_stage_order.stage_order as target_order,
        contacts.lifecyclestage as current_stage,
        current_stage_order.stage_order as current_order
    from eligible
    inner join engagement on eligible.learner_key = engagement.learner_key
    -- a purchase makes a customer; having signed up makes a lead
    inner join stages as target_stage_order
        on target_stage_order.stage = case when engagement.has_purchase then 'customer' else 'lead' end
    left join contacts on eligible.hubspot_contact_id = contacts.hubspot_contact_id
    left join stages as current_stage_order on contacts.lifecyclestage = current_stage_order.stage
)

select
    eligible.learner_key,
    eligible.hubspot_contact_id,
    eligible.email_normalized as email,
    eligible.marketing_consent,
    eligible.lms_user_id,
    eligible.lms_source,
    engagement.courses_completed_count as lms_courses_completed_count,
    engagement.last_course_completed as lms_last_course_completed,
    {{ utc_date('engagement.last_course_completed_at') }} as lms_recent_course_completion_date,
    engagement.engagement_score as lms_engagement_score,
    engagement.certified_products as lms_certified_products,
    -- one column per row of the certified_products seed (a contract change to extend)
    {{ delimited_list_contains('engagement.certified_products', 'analytics') }} as lms_certified_analytics,
    {{ delimited_list_contains('engagement.certified_products', 'automation') }} as lms_certified_automation,
    {{ delimited_list_contains('engagement.certified_products', 'integrations') }} as lms_certified_integrations,
    {{ delimited_list_contains('engagement.certified_products', 'reporting') }} as lms_certified_reporting,
    {{ delimited_list_contains('engagement.certified_products', 'security') }} as lms_certified_security,
    engagement.last_activity_at as lms_last_activity_at,
    case
        -- a stage we do not know the order of (custom stage) is never overwritten
        when lifecycle.current_stage is not null and lifecycle.current_order is null then null
        when lifecycle.target_order > coalesce(lifecycle.current_order, 0) then lifecycle.target_stage
    end as lifecyclestage,
    -- a deleted learner's row stays (its data persists); the sync's delete policy reads this
    coalesce(eligible.is_deleted_in_lms, false) as lms_deleted,
    eligible.hubspot_contact_id is null
    and archived_emails.email_normalized is not null as hubspot_contact_archived
from eligible
inner join engagement on eligible.learner_key = engagement.learner_key
inner join lifecycle on eligible.learner_key = lifecycle.learner_key
left join archived_emails on eligible.email_normalized = archived_emails.email_normalized
where eligible.email_rank = 1 or eligible.hubspot_contact_id is not null
