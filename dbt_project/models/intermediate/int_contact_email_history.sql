{#- Every normalized email seen on each HubSpot contact (primary and additional emails), with the first and last build
    time (as_of) it was seen, kept across builds: an email edited on either side is visible as
    an old row whose last_seen_at stops moving next to a new row. One row per (key, email);
    rows only ever get later last_seen_at, so it stays as small as the distinct emails. -#}
{{ config(
    materialized='incremental',
    unique_key=['hubspot_contact_id', 'email_normalized'],
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}

with

current_emails as (
    select distinct
        hubspot_contact_id,
        email_normalized
    from {{ ref('int_contact_emails') }}
    where email_normalized is not null
),

seen_before as (
    {% if is_incremental() %}
        select
            hubspot_contact_id,
            email_normalized,
            first_seen_at
        from {{ this }}
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as hubspot_contact_id,
            cast(null as {{ dbt.type_string() }}) as email_normalized,
            cast(null as {{ lmsbridge.type_timestamptz() }}) as first_seen_at
        where false
    {% endif %}
)

select
    current_emails.hubspot_contact_id,
    current_emails.email_normalized,
    coalesce(seen_before.first_seen_at, {{ as_of_timestamp() }}) as first_seen_at,
    {{ as_of_timestamp() }} as last_seen_at
from current_emails
left join seen_before
    on
        current_emails.hubspot_contact_id = seen_before.hubspot_contact_id
        and current_emails.email_normalized = seen_before.email_normalized
