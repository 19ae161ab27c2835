{#- Every ambiguous identity case, one row per learner and reason. The learners involved stay
    unmatched (contact conflicts) or companyless (company conflicts). A `match_moved` row names
    the contact the learner was on and the one the rules now pick (int_learner_match_memory). -#}
with

learners as (
    select * from {{ ref('int_learners') }}
),

contact_conflicts as (
    select
        learner_key,
        'contact' as conflict_scope,
        conflict_reason as reason,
        conflict_contact_ids as candidate_ids,
        moved_from_contact_id,
        moved_to_contact_id
    from {{ ref('int_learner_contact_matches') }}
    where conflict_reason is not null
),

company_conflicts as (
    select
        learner_key,
        'company' as conflict_scope,
        'several_companies_for_domain' as reason,
        ambiguous_company_ids as candidate_ids,
        cast(null as {{ dbt.type_string() }}) as moved_from_contact_id,
        cast(null as {{ dbt.type_string() }}) as moved_to_contact_id
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
    conflicts.candidate_ids,
    conflicts.moved_from_contact_id,
    conflicts.moved_to_contact_id
from conflicts
inner join learners on conflicts.learner_key = learners.learner_key
