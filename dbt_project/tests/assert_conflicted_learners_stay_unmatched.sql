-- A learner with a contact conflict is never matched (DESIGN.md: reported, not guessed).
select learners.learner_key
from {{ ref('dim_learners') }} as learners
inner join {{ ref('identity_conflicts') }} as conflicts
    on learners.learner_key = conflicts.learner_key
where conflicts.conflict_scope = 'contact' and learners.hubspot_contact_id is not null
