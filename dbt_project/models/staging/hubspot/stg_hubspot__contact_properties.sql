{#- Every property of each live contact as (hubspot_contact_id, property, value) text rows:
    field mappings may name any contact property, including ones created after this model
    was written. Contacts staging decides which contacts are live (merged-away copies and
    archived records are not). A view: only the two-way sync reads it, for what it maps. -#}
{{ config(materialized='view') }}
{%- set raw = raw_table('raw_hubspot', 'contacts') -%}
{%- set record_columns = ['id', 'archived', 'created_at', 'updated_at', 'archived_at'] -%}
{%- set properties = [] -%}
{%- for column in raw.columns -%}
    {%- if column not in record_columns and not column.startswith('_') and not column.endswith('__v_text') -%}
        {%- do properties.append(column) -%}
    {%- endif -%}
{%- endfor %}

with

source as (
    {{ latest_version(raw_source('raw_hubspot', 'contacts'), ['id'], ['updated_at']) }}
),

live as (
    select source.*
    from source
    inner join {{ ref('stg_hubspot__contacts') }} as contacts
        on cast(source.id as {{ dbt.type_string() }}) = contacts.hubspot_contact_id
),

unpivoted as (
    {{ unpivot_text('live', 'cast(id as ' ~ dbt.type_string() ~ ')', properties, column_types=raw.types) }}
)

select
    unpivoted.record_key as hubspot_contact_id,
    unpivoted.field_name as property,
    nullif(unpivoted.field_value, '') as property_value,
    -- when the extract read this copy (dlt load ids are unix seconds): a copy read before
    -- our own write to the contact cannot show that write yet
    {{ from_unix_seconds(lmsbridge.try_cast('live._dlt_load_id', type_double())) }} as read_at
from unpivoted
inner join live on cast(live.id as {{ dbt.type_string() }}) = unpivoted.record_key
