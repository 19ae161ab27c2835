{#- Every profile value of each learner as (lms_user_id, lms_field, lms_value) text rows, named
    as field mappings name them: first_name, username, fields.phone, fields.cf_<custom>,
    utms.fc_utm_source, billing_info.bf_city, tags (sorted, ';'-joined). Whichever custom
    fields the school has, they are read from the columns dlt landed. A view: only the two-way
    sync reads it, for the fields it maps. -#}
{{ config(materialized='view') }}
{%- set raw = raw_table('raw_lms', 'users') -%}
{%- set key = 'cast(id as ' ~ dbt.type_string() ~ ')' -%}
{%- set groups = {'fields__': [], 'utms__': [], 'billing_info__': []} -%}
{%- for column in raw.columns if not column.endswith('__v_text') -%}
    {%- for prefix in groups if column.startswith(prefix) -%}
        {%- do groups[prefix].append(column) -%}
    {%- endfor -%}
{%- endfor %}

with

source as (
    {{ latest_version(raw_source('raw_lms', 'users'), ['id']) }}
),

user_tags as (
    select * from {{ raw_source('raw_lms', 'users__tags') }}
),

top_level as (
    {{ unpivot_text('source', key, ['first_name', 'last_name', 'username', 'subscribed_for_marketing_emails']) }}
),

fields_values as (
    {{ unpivot_text('source', key, groups['fields__'], 'fields.', 'fields__') }}
),

utms_values as (
    {{ unpivot_text('source', key, groups['utms__'], 'utms.', 'utms__') }}
),

billing_info_values as (
    {{ unpivot_text('source', key, groups['billing_info__'], 'billing_info.', 'billing_info__') }}
),

tag_lists as (
    select
        cast(source.id as {{ dbt.type_string() }}) as record_key,
        'tags' as field_name,
        {{ lmsbridge.string_agg_ordered('trim(tags.value)', ';', 'trim(tags.value)') }} as field_value
    from source
    inner join user_tags as tags on source._dlt_id = tags._dlt_parent_id
    where nullif(trim(tags.value), '') is not null
    group by source.id
),

unioned as (
    select * from top_level
    union all
    select * from fields_values
    union all
    select * from utms_values
    union all
    select * from billing_info_values
    union all
    select * from tag_lists
)

select
    record_key as lms_user_id,
    field_name as lms_field,
    -- an empty string is how LearnWorlds says "no value"
    nullif(trim(field_value), '') as lms_value
from unioned
