{#- Every ambiguous identity case, one row per learner and reason. The learners involved stay
    unmatched (contact conflicts) or companyless (company conflicts). -#}
with

learners as (
    select * from {{ ref('int_learners') }}
),

contact_conflicts as (
    select
        learner_key,
        'contact' as conflict_scope,
        conflict_reason as reason,
        conflict_contact_ids as candidate_ids
    from {{ ref('int_learner_contact_matches') }}
    where conflict_reason is not null
),

company_conflicts as (
    select
        learner_key,
        'company' as conflict_scope,
        'several_companies_for_domain' as reason,
        ambiguous_company_ids as candidate_ids
    from {{ ref('int_learner_companies') }}
    where ambiguous_company_ids is not null
),

conflicts as (
    select * from contact_conflicts
    union all
    select * from company_conflicts
)

select
    {{ generate_surrogate_key(['conflicts.learner_key', 'conflicts.reason']) }} as conflict_key,
    conflicts.learner_key,
    learners.lms_user_id,
    learners.email,
    learners.email_normalized,
    conflicts.conflict_scope,
    conflicts.reason,
    conflicts.candidate_ids
from conflicts
inner join learners on conflicts.learner_key = learners.learner_key
