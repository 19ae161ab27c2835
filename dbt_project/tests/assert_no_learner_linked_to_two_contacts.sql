-- Identity never links one learner to two contacts, nor one contact to two learners.
with

learner_links as (
    select learner_key
    from {{ ref('dim_learners') }}
    where hubspot_contact_id is not null
    group by learner_key
    having count(distinct hubspot_contact_id) > 1
),

contact_links as (
    select hubspot_contact_id as learner_key
    from {{ ref('dim_learners') }}
    where hubspot_contact_id is not null
    group by hubspot_contact_id
    having count(distinct learner_key) > 1
)

select * from learner_links
union all
select * from contact_links
