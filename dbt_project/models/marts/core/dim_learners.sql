with

learners as (
    select * from {{ ref('int_learners') }}
),

matches as (
    select * from {{ ref('int_learner_contact_matches') }}
),

companies as (
    select * from {{ ref('int_learner_companies') }}
),

first_matches as (
    select * from {{ ref('int_learner_first_matches') }}
),

deletions as (
    select * from {{ ref('int_learner_deletions') }}
)

select
    learners.learner_key,
    learners.lms_user_id,
    learners.email,
    learners.email_normalized,
    matches.hubspot_contact_id,
    companies.hubspot_company_id,
    matches.match_method,
    -- every learner is in first_matches; the fallback only covers a half-built warehouse
    coalesce(first_matches.first_match_method, matches.match_method) as first_match_method,
    companies.company_match_method,
    learners.marketing_consent,
    learners.lms_source,
    learners.signed_up_at,
    deletions.learner_key is not null as is_deleted_in_lms,
    deletions.lms_deleted_at
from learners
inner join matches on learners.learner_key = matches.learner_key
inner join companies on learners.learner_key = companies.learner_key
left join first_matches on learners.learner_key = first_matches.learner_key
left join deletions on learners.learner_key = deletions.learner_key
