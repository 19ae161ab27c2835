{#- Every contact a learner could be, by rule (1 = lms_user_id property, 2 = primary email,
    3 = additional email). Joins on equal keys only: no learner x contact cross product. -#}
with

learners as (
    select * from {{ ref('int_learners') }}
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

contact_emails as (
    select * from {{ ref('int_contact_emails') }}
),

by_id as (
    select
        learners.learner_key,
        contacts.hubspot_contact_id,
        'lms_user_id' as match_method,
        1 as rule_rank
    from learners
    inner join contacts on learners.lms_user_id = contacts.contact_lms_user_id
),

by_email as (
    select
        learners.learner_key,
        contact_emails.hubspot_contact_id,
        contact_emails.email_rule as match_method,
        case when contact_emails.email_rule = 'email' then 2 else 3 end as rule_rank
    from learners
    inner join contact_emails on learners.email_normalized = contact_emails.email_normalized
),

candidates as (
    select * from by_id
    union all
    select * from by_email
)

select distinct
    learner_key,
    hubspot_contact_id,
    match_method,
    rule_rank
from candidates
