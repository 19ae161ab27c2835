{#- How each learner was first matched, kept across runs. Once the reverse ETL writes
    lms_user_id to a contact, every later build matches it by lms_user_id, so the current
    match_method alone forgets that the link came from an email rule (or from a contact we
    created). This table remembers the first real method per learner:
    - first build (or --full-refresh): nothing is remembered, so an lms_user_id match on a
      contact the learner's email rules also reach counts as that email rule, the trace our
      own write-back leaves;
    - later builds: a remembered method other than 'none' is kept; a learner unmatched last
      time and now matched by lms_user_id on a contact with its email is one the reverse ETL
      created ('created'); anything else takes the current method. -#}
{{ config(
    materialized='incremental',
    unique_key='learner_key',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}

with

matches as (
    select * from {{ ref('int_learner_contact_matches') }}
),

email_candidates as (
    select
        learner_key,
        hubspot_contact_id,
        case when min(rule_rank) = 2 then 'email' else 'additional_email' end as email_method
    from {{ ref('int_learner_contact_candidates') }}
    where match_method in ('email', 'additional_email')
    group by learner_key, hubspot_contact_id
),

observed as (
    select
        matches.learner_key,
        matches.match_method,
        email_candidates.email_method
    from matches
    left join email_candidates
        on
            matches.learner_key = email_candidates.learner_key
            and matches.hubspot_contact_id = email_candidates.hubspot_contact_id
)

{% if is_incremental() %}

    , remembered as (
        select
            learner_key,
            first_match_method
        from {{ this }}
    )

    select
        observed.learner_key,
        case
            when remembered.first_match_method <> 'none' then remembered.first_match_method
            when
                remembered.first_match_method = 'none'
                and observed.match_method = 'lms_user_id'
                and observed.email_method is not null
                then 'created'
            else observed.match_method
        end as first_match_method
    from observed
    left join remembered on observed.learner_key = remembered.learner_key

{% else %}

    select
        learner_key,
        case
            when match_method = 'lms_user_id' and email_method is not null then email_method
            else match_method
        end as first_match_method
    from observed

{% endif %}
