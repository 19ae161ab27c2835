{#- HubSpot engagements (calls, emails, meetings), one row per live engagement, in one shape:
    the CRM touches int_deal_touchpoints reads. Each type lands in its own raw table (their
    properties differ); a property a type does not have is null here. -#}
{#- engagement type -> its own property for each shared column (none: the type has none) -#}
{%- set types = [
    ('calls', {'direction': 'hs_call_direction', 'status': 'hs_call_status',
               'call_duration_ms': 'hs_call_duration', 'meeting_start_time': none}),
    ('emails', {'direction': 'hs_email_direction', 'status': 'hs_email_status',
                'call_duration_ms': none, 'meeting_start_time': none}),
    ('meetings', {'direction': none, 'status': 'hs_meeting_outcome',
                  'call_duration_ms': none, 'meeting_start_time': 'hs_meeting_start_time'}),
] -%}

with

{% for name, _ in types %}
    {{ name }} as (
        {{ latest_version(raw_source('raw_hubspot', name), ['id'], ['updated_at']) }}
    ),
{% endfor %}

unioned as (
    {% for name, columns in types %}
        select
            '{{ name }}' as engagement_type,
            id,
            archived,
            hubspot_owner_id,
            hs_timestamp,
            hs_createdate,
            hs_lastmodifieddate,
            created_at,
            {% for column in ['direction', 'status', 'meeting_start_time'] %}
                cast({{ columns[column] or 'null' }} as {{ dbt.type_string() }}) as {{ column }},
            {% endfor %}
            {{ columns['call_duration_ms'] or 'null' }} as call_duration_ms
        from {{ name }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

renamed as (
    select
        -- ids
        engagement_type || ':' || cast(id as {{ dbt.type_string() }}) as engagement_key,
        cast(id as {{ dbt.type_string() }}) as hubspot_engagement_id,
        nullif(trim(cast(hubspot_owner_id as {{ dbt.type_string() }})), '') as hubspot_owner_id,

        -- strings
        engagement_type,
        upper(nullif(trim(cast(direction as {{ dbt.type_string() }})), '')) as direction,
        upper(nullif(trim(cast(status as {{ dbt.type_string() }})), '')) as status,

        -- numerics (HubSpot number properties may arrive as strings)
        {{ try_cast('call_duration_ms', type_double()) }} as call_duration_ms,

        -- booleans
        {{ to_timestamptz('hs_timestamp') }} is null as is_missing_timestamp,

        -- timestamps: hs_timestamp places the activity on the timeline; a few older or
        -- imported records lack it, and HubSpot then shows them at the meeting's start or
        -- when the record was created
        coalesce(
            {{ to_timestamptz('hs_timestamp') }},
            {{ to_timestamptz('meeting_start_time') }},
            {{ to_timestamptz('hs_createdate') }},
            {{ to_timestamptz('created_at') }}
        ) as occurred_at,
        coalesce(
            {{ to_timestamptz('hs_createdate') }}, {{ to_timestamptz('created_at') }}
        ) as created_at,
        {{ to_timestamptz('hs_lastmodifieddate') }} as last_modified_at
    from unioned
    where not coalesce({{ try_cast('archived', dbt.type_boolean()) }}, false)
)

select * from renamed
