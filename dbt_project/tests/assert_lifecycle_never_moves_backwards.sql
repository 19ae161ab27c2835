-- The lifecycle stage written back is always later than the contact's current stage.
select contacts.learner_key
from {{ ref('rev_etl__hubspot_contacts') }} as contacts
inner join {{ ref('stg_hubspot__contacts') }} as hubspot
    on contacts.hubspot_contact_id = hubspot.hubspot_contact_id
inner join {{ ref('lifecycle_stages') }} as target_stage on contacts.lifecyclestage = target_stage.stage
left join {{ ref('lifecycle_stages') }} as current_stage on hubspot.lifecyclestage = current_stage.stage
where target_stage.stage_order <= coalesce(current_stage.stage_order, 0)
    or (hubspot.lifecyclestage is not null and current_stage.stage is null)
