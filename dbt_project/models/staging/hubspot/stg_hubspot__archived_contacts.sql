{#- Contacts someone archived in HubSpot (not merged ones: HubSpot archives the losing side of
    a merge too, and that person lives on in the survivor). The reverse ETL must never
    re-create a contact from these emails. -#}
with

source as (
    {{ latest_version(raw_source('raw_hubspot', 'contacts'), ['id'], ['updated_at']) }}
),

archived as (
    select *
    from source
    where coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false)
),

merged_away as (
    select distinct merged_contact_id from {{ ref('stg_hubspot__contact_merges') }}
),

renamed as (
    select
        -- ids
        cast(archived.id as {{ dbt.type_string() }}) as hubspot_contact_id,

        -- strings
        archived.email,

        -- timestamps
        {{ to_timestamptz('archived.archived_at') }} as archived_at
    from archived
    left join merged_away
        on cast(archived.id as {{ dbt.type_string() }}) = merged_away.merged_contact_id
    where merged_away.merged_contact_id is null
)

select * from renamed
