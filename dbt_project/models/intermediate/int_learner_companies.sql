{#- A learner's company: the matched contact's primary company association, else the email
    domain matched to exactly one company domain, never for free-mail or disposable domains.
    A domain owned by several companies is ambiguous: no company, and reported. -#}
with

learners as (
    select * from {{ ref('int_learners') }}
),

matches as (
    select * from {{ ref('int_learner_contact_matches') }}
),

primary_companies as (
    {{ primary_associations(
        'contacts', 'companies', var('primary_company_association_type_id'), 'hubspot_contact_id'
    ) }}
),

personal_domains as (
    select domain from {{ ref('free_email_domains') }}
    union
    select domain from {{ ref('disposable_email_domains') }}
),

domain_companies as (
    select
        company_domain_normalized,
        min(hubspot_company_id) as hubspot_company_id,
        count(*) as companies_with_domain,
        {{ string_agg_ordered('hubspot_company_id', ';', 'hubspot_company_id') }} as company_ids
    from {{ ref('stg_hubspot__companies') }}
    where company_domain_normalized is not null
    group by company_domain_normalized
),

business_domains as (
    select domain_companies.*
    from domain_companies
    left join personal_domains
        on domain_companies.company_domain_normalized = personal_domains.domain
    where personal_domains.domain is null
)

select
    learners.learner_key,
    case
        when primary_companies.hubspot_company_id is not null
            then primary_companies.hubspot_company_id
        when business_domains.companies_with_domain = 1 then business_domains.hubspot_company_id
    end as hubspot_company_id,
    case
        when primary_companies.hubspot_company_id is not null then 'association'
        when business_domains.companies_with_domain = 1 then 'email_domain'
        else 'none'
    end as company_match_method,
    case
        when primary_companies.hubspot_company_id is null and business_domains.companies_with_domain > 1
            then business_domains.company_ids
    end as ambiguous_company_ids
from learners
left join matches on learners.learner_key = matches.learner_key
left join primary_companies on matches.hubspot_contact_id = primary_companies.hubspot_contact_id
left join business_domains on learners.email_domain = business_domains.company_domain_normalized
