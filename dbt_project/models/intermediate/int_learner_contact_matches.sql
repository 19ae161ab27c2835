{#- The identity decision per learner: the rules' decision (int_learner_contact_rule_matches)
    unless it would move the learner off the contact it was matched to before while that
    contact still lives (int_learner_match_memory). Such a move is a `match_moved` conflict
    with the old and the new contact ids, and the learner stays unmatched until the rules
    settle it: they pick the remembered contact again, or it is archived, deleted or merged
    (into the new one or elsewhere). -#}
with

rule_matches as (
    select * from {{ ref('int_learner_contact_rule_matches') }}
),

memory as (
    select * from {{ ref('int_learner_match_memory') }}
)

select
    rule_matches.learner_key,
    case when memory.moved_to_contact_id is null then rule_matches.hubspot_contact_id end as hubspot_contact_id,
    case when memory.moved_to_contact_id is null then rule_matches.match_method else 'none' end as match_method,
    case when memory.moved_to_contact_id is null then rule_matches.conflict_reason else 'match_moved' end
        as conflict_reason,
    case
        when memory.moved_to_contact_id is null then rule_matches.conflict_contact_ids
        else {{ dbt.concat(['memory.remembered_contact_id', "';'", 'memory.moved_to_contact_id']) }}
    end as conflict_contact_ids,
    case when memory.moved_to_contact_id is not null then memory.remembered_contact_id end
        as moved_from_contact_id,
    memory.moved_to_contact_id
from rule_matches
left join memory on rule_matches.learner_key = memory.learner_key
