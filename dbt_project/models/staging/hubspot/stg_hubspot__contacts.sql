{#- Merged contacts: HubSpot keeps the losing ids in the winner's hs_merged_object_ids, and a
    stale copy of a loser may still sit in raw. Those copies are dropped here so no later
    model can match a learner to a contact that no longer exists. -#}
with

source as (
    {{ latest_version(raw_source('raw_hubspot', 'contacts'), ['id'], ['updated_at']) }}
),

live as (
    select *
    from source
    where not coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false)
),

merged_away as (
    select distinct trim(merged_id) as merged_contact_id
    from (
        select {{ explode_delimited('hs_merged_object_ids', ';') }} as merged_id
        from live
        where hs_merged_object_ids is not null
    ) as exploded
),

renamed as (
    select
        -- ids
        cast(live.id as {{ dbt.type_string() }}) as hubspot_contact_id,
        nullif(trim(cast(live.hubspot_owner_id as {{ dbt.type_string() }})), '') as hubspot_owner_id,
        nullif(trim(cast(live.lms_user_id as {{ dbt.type_string() }})), '') as contact_lms_user_id,

        -- strings
        live.email,
        live.firstname as first_name,
        live.lastname as last_name,
        nullif(lower(trim(live.lifecyclestage)), '') as lifecyclestage,
        live.hs_additional_emails as additional_emails,
        live.hs_merged_object_ids as merged_object_ids,

        -- timestamps
        {{ to_timestamptz('live.createdate') }} as created_at,
        {{ to_timestamptz('live.lastmodifieddate') }} as last_modified_at
    from live
    left join merged_away
        on cast(live.id as {{ dbt.type_string() }}) = merged_away.merged_contact_id
    where merged_away.merged_contact_id is null
)

select * from renamed
