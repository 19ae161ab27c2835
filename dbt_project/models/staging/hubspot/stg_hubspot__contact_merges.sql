{#- One row per merge edge HubSpot reports: a contact id listed in another live contact's
    hs_merged_object_ids. Every latest live copy counts, also a stale copy of a contact that
    was itself merged away later: its list is the link that resolves a chain A -> B -> C. -#}
with

source as (
    {{ latest_version(raw_source('raw_hubspot', 'contacts'), ['id'], ['updated_at']) }}
),

live as (
    select
        cast(id as {{ dbt.type_string() }}) as into_contact_id,
        hs_merged_object_ids
    from source
    where
        not coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false)
        and hs_merged_object_ids is not null
),

exploded as (
    select
        into_contact_id,
        {{ explode_delimited('hs_merged_object_ids', ';') }} as merged_id
    from live
),

trimmed as (
    select
        into_contact_id,
        trim(merged_id) as merged_contact_id
    from exploded
)

select distinct
    merged_contact_id,
    into_contact_id
from trimmed
where merged_contact_id <> '' and merged_contact_id <> into_contact_id
