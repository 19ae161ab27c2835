{#- One row per record of `from_type`: its primary `to_type` record, by HubSpot's association
    type id for "primary" (contact -> company 1, deal -> company 5). HubSpot allows one
    primary per record; min() only guards against bad data. -#}
{% macro primary_associations(from_type, to_type, type_id, id_alias) %}
    select
        from_object_id as {{ id_alias }},
        min(to_object_id) as hubspot_company_id
    from {{ ref('stg_hubspot__associations') }}
    where
        from_object_type = '{{ from_type }}'
        and to_object_type = '{{ to_type }}'
        and association_type_id = {{ type_id }}
    group by from_object_id
{% endmacro %}
