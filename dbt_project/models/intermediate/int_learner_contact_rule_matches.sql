{#- What the identity rules alone decide per learner (DESIGN.md); int_learner_contact_matches
    then applies match memory. The contact found by the highest rule wins;
    two contacts at that rule, an id match while another contact owns the learner's primary
    email, or a contact claimed by several learners are conflicts, and a conflicted learner
    stays unmatched rather than guessed. -#}
with

learners as (
    select learner_key from {{ ref('int_learners') }}
),

candidates as (
    select * from {{ ref('int_learner_contact_candidates') }}
),

best_rule as (
    select
        learner_key,
        min(rule_rank) as best_rank
    from candidates
    group by learner_key
),

at_best_rule as (
    select
        candidates.learner_key,
        min(candidates.match_method) as match_method,
        min(candidates.hubspot_contact_id) as hubspot_contact_id,
        count(distinct candidates.hubspot_contact_id) as contacts_at_rule,
        {{ string_agg_ordered(
            'distinct candidates.hubspot_contact_id', ';', 'candidates.hubspot_contact_id'
        ) }} as contact_ids_at_rule
    from candidates
    inner join best_rule
        on
            candidates.learner_key = best_rule.learner_key
            and candidates.rule_rank = best_rule.best_rank
    group by candidates.learner_key
),

email_owners as (
    select
        learner_key,
        hubspot_contact_id
    from candidates
    where rule_rank = 2
),

disagreements as (
    select
        at_best_rule.learner_key,
        {{ string_agg_ordered(
            'distinct email_owners.hubspot_contact_id', ';', 'email_owners.hubspot_contact_id'
        ) }} as other_contact_ids
    from at_best_rule
    inner join email_owners
        on
            at_best_rule.learner_key = email_owners.learner_key
            and at_best_rule.hubspot_contact_id <> email_owners.hubspot_contact_id
    where at_best_rule.match_method = 'lms_user_id' and at_best_rule.contacts_at_rule = 1
    group by at_best_rule.learner_key
),

proposals as (
    select
        at_best_rule.learner_key,
        at_best_rule.match_method,
        at_best_rule.hubspot_contact_id,
        case
            when at_best_rule.contacts_at_rule > 1 then 'several_contacts_same_rule'
            when disagreements.learner_key is not null then 'id_email_disagree'
        end as conflict_reason,
        case
            when at_best_rule.contacts_at_rule > 1 then at_best_rule.contact_ids_at_rule
            when disagreements.learner_key is not null
                then {{ dbt.concat(['at_best_rule.hubspot_contact_id', "';'", 'disagreements.other_contact_ids']) }}
        end as conflict_contact_ids
    from at_best_rule
    left join disagreements on at_best_rule.learner_key = disagreements.learner_key
),

claims as (
    select
        hubspot_contact_id,
        count(*) as learners_claiming
    from proposals
    where conflict_reason is null
    group by hubspot_contact_id
),

decided as (
    select
        proposals.learner_key,
        proposals.match_method,
        proposals.hubspot_contact_id,
        coalesce(
            proposals.conflict_reason,
            case when claims.learners_claiming > 1 then 'several_learners_one_contact' end
        ) as conflict_reason,
        coalesce(
            proposals.conflict_contact_ids,
            case when claims.learners_claiming > 1 then proposals.hubspot_contact_id end
        ) as conflict_contact_ids
    from proposals
    left join claims on proposals.hubspot_contact_id = claims.hubspot_contact_id
)

select
    learners.learner_key,
    case when decided.conflict_reason is null then decided.hubspot_contact_id end as hubspot_contact_id,
    case
        when decided.conflict_reason is null and decided.hubspot_contact_id is not null
            then decided.match_method
        else 'none'
    end as match_method,
    decided.conflict_reason,
    decided.conflict_contact_ids
from learners
left join decided on learners.learner_key = decided.learner_key
