{#- What the two-way sync reads on the HubSpot side: every property of every live contact as
    text, with the learner the contact is matched to (null: no learner, a candidate for
    learner creation). The sync filters to the properties its mappings name. -#}
{{ config(materialized='view') }}

with

properties as (
    select * from {{ ref('stg_hubspot__contact_properties') }}
),

matched as (
    select
        hubspot_contact_id,
        learner_key,
        lms_user_id
    from {{ ref('rev_etl__hubspot_contacts') }}
    where hubspot_contact_id is not null
),

learners as (
    -- a contact matched to a conflicted learner is neither synced nor offered for creation
    select
        hubspot_contact_id,
        min(learner_key) as learner_key
    from {{ ref('dim_learners') }}
    where hubspot_contact_id is not null
    group by hubspot_contact_id
)

select
    properties.hubspot_contact_id,
    properties.property,
    properties.property_value,
    properties.read_at as hubspot_read_at,
    matched.learner_key,
    matched.lms_user_id,
    learners.learner_key is not null as has_learner
from properties
left join matched on properties.hubspot_contact_id = matched.hubspot_contact_id
left join learners on properties.hubspot_contact_id = learners.hubspot_contact_id
