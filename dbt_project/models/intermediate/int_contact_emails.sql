{#- Contact emails a learner can match on: the primary email and each additional email. -#}
with

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

emails as (
    select * from {{ ref('int_emails_normalized') }}
),

additional as (
    select
        hubspot_contact_id,
        {{ explode_delimited('additional_emails', ';') }} as email_raw
    from contacts
    where additional_emails is not null
),

contact_emails as (
    select
        hubspot_contact_id,
        email as email_raw,
        'email' as email_rule
    from contacts
    where email is not null
    union all
    select
        hubspot_contact_id,
        email_raw,
        'additional_email' as email_rule
    from additional
)

select distinct
    contact_emails.hubspot_contact_id,
    contact_emails.email_rule,
    emails.email_normalized
from contact_emails
inner join emails on contact_emails.email_raw = emails.email_raw
where emails.email_normalized is not null
