{#- Every email we ever compare, mapped once to its normalized form (DESIGN.md identity rules:
    trim, lowercase, Unicode NFKC; no +tag or dot stripping). Pure-ASCII addresses only need
    trim + lowercase; the rest go through the NFKC compatibility table character by
    character and are then composed (NFC), so the expensive path only sees the rare
    non-ASCII addresses. -#}
with

additional_emails as (
    select {{ explode_delimited('additional_emails', ';') }} as email_raw
    from {{ ref('stg_hubspot__contacts') }}
    where additional_emails is not null
),

raw_emails as (
    select email as email_raw from {{ ref('stg_learnworlds__users') }}
    union
    select user_email from {{ ref('stg_learnworlds__webhook_events') }}
    union
    select learner_email from {{ ref('stg_lms_files__history_events') }}
    union
    select email from {{ ref('stg_hubspot__contacts') }}
    union
    select email from {{ ref('stg_hubspot__archived_contacts') }}
    union
    select email_raw from additional_emails
),

prepared as (
    select
        email_raw,
        lower(trim(email_raw)) as email_lower
    from raw_emails
    where email_raw is not null
),

ascii_emails as (
    select
        email_raw,
        email_lower as email_normalized
    from prepared
    where not {{ has_non_ascii('email_lower') }}
),

exploded as (
    select
        email_raw,
        email_lower,
        {{ explode_characters('email_lower') }}
    from prepared
    where {{ has_non_ascii('email_lower') }}
),

characters as (
    select
        email_raw,
        char_position,
        {{ dbt.concat(["'='", "substring(email_lower, char_position, 1)"]) }} as source_char,
        substring(email_lower, char_position, 1) as original_char
    from exploded
),

mapped as (
    select
        characters.email_raw,
        characters.char_position,
        coalesce(
            substring(nfkc_map.target_text, 2), characters.original_char
        ) as mapped_text
    from characters
    left join {{ ref('nfkc_map') }} as nfkc_map
        on characters.source_char = nfkc_map.source_char
),

recomposed as (
    select
        email_raw,
        -- compatibility forms may map to upper case (e.g. circled letters): lower again
        trim(lower({{ nfc(string_agg_ordered('mapped_text', '', 'char_position')) }})) as email_normalized
    from mapped
    group by email_raw
),

final as (
    select * from ascii_emails
    union all
    select * from recomposed
)

select
    email_raw,
    nullif(email_normalized, '') as email_normalized
from final
