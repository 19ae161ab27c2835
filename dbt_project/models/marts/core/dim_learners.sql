with

learners as (
    select * from {{ ref('int_learners') }}
),

matches as (
    select * from {{ ref('int_learner_contact_matches') }}
),

companies as (
    select * from {{ ref('int_learner_companies') }}
)

select
    learners.learner_key,
    learners.lms_user_id,
    learners.email,
    learners.email_normalized,
    matches.hubspot_contact_id,
    companies.hubspot_company_id,
    matches.match_method,
    companies.company_match_method,
    learners.marketing_consent,
    learners.lms_source,
    learners.signed_up_at
from learners
inner join matches on learners.learner_key = matches.learner_key
inner join companies on learners.learner_key = companies.learner_key
