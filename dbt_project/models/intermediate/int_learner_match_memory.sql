{#- The contact each learner was last accepted on, kept across builds, and whether the rules
    now point somewhere else. Before the reverse ETL writes lms_user_id back (or after someone
    clears it), only emails hold a match, and an email edited on either side would silently
    carry the learner's data to another contact. Rule per learner:
    - the remembered id is first re-pointed through int_contact_merges, so a merge is not a
      move;
    - remembered contact gone (archived, deleted, merged away) or nothing remembered: the
      rules' contact is accepted and remembered;
    - rules pick the remembered contact, or none at all: the memory stays, no move;
    - rules pick another live contact while the remembered one is still live: a move
      (moved_to_contact_id set), the memory stays, and int_learner_contact_matches reports
      `match_moved` and leaves the learner unmatched until the rules come back to the
      remembered contact or it is gone.
    First build (or --full-refresh): nothing is remembered, the rules' contact is accepted. -#}
{{ config(
    materialized='incremental',
    unique_key='learner_key',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}

with

rule_matches as (
    select
        learner_key,
        hubspot_contact_id
    from {{ ref('int_learner_contact_rule_matches') }}
),

live_contacts as (
    select hubspot_contact_id from {{ ref('stg_hubspot__contacts') }}
),

merge_map as (
    select * from {{ ref('int_contact_merges') }}
),

last_build as (
    {% if is_incremental() %}
        select
            learner_key,
            remembered_contact_id
        from {{ this }}
        where remembered_contact_id is not null
    {% else %}
        select
            cast(null as {{ dbt.type_string() }}) as learner_key,
            cast(null as {{ dbt.type_string() }}) as remembered_contact_id
        where false
    {% endif %}
),

still_live as (
    select
        last_build.learner_key,
        coalesce(merge_map.survivor_contact_id, last_build.remembered_contact_id) as remembered_contact_id
    from last_build
    left join merge_map on last_build.remembered_contact_id = merge_map.merged_contact_id
    inner join live_contacts
        on coalesce(merge_map.survivor_contact_id, last_build.remembered_contact_id) = live_contacts.hubspot_contact_id
)

select
    rule_matches.learner_key,
    coalesce(still_live.remembered_contact_id, rule_matches.hubspot_contact_id) as remembered_contact_id,
    case
        when still_live.remembered_contact_id <> rule_matches.hubspot_contact_id
            then rule_matches.hubspot_contact_id
    end as moved_to_contact_id
from rule_matches
left join still_live on rule_matches.learner_key = still_live.learner_key
