{#- dlt lands associations as parent rows (from object) with an edges child table; the
    parent join is needed to read an edge at all, so it lives here. -#}
with

parents as (
    {{ latest_version(raw_source('raw_hubspot', 'associations'), ['from_object_type', 'from_id', 'to_object_type']) }}
),

edges as (
    select * from {{ raw_source('raw_hubspot', 'associations__edges') }}
),

renamed as (
    select distinct
        -- ids
        cast(parents.from_id as {{ dbt.type_string() }}) as from_object_id,
        cast(edges.to_id as {{ dbt.type_string() }}) as to_object_id,

        -- strings
        lower(parents.from_object_type) as from_object_type,
        lower(parents.to_object_type) as to_object_type,
        edges.category as association_category,
        edges.label as association_label,

        -- numerics
        {{ try_cast('edges.type_id', dbt.type_int()) }} as association_type_id
    from edges
    inner join parents on edges._dlt_parent_id = parents._dlt_id
)

select * from renamed
