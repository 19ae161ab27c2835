{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key='payment_id',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms', 'payments') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms', 'payments')), ['id'], ['created']) }}
),

renamed as (
    select
        -- ids
        cast(id as {{ dbt.type_string() }}) as payment_id,
        cast(user_id as {{ dbt.type_string() }}) as lms_user_id,
        cast(product__id as {{ dbt.type_string() }}) as product_id,

        -- strings
        type as payment_type,
        product__type as product_type,
        product__name as product_name,

        -- numerics
        {{ parsed(raw, 'price') }} as price,
        {{ parsed(raw, 'discount') }} as discount,

        -- timestamps
        {{ parsed(raw, 'created') }} as created_at,
        {{ parsed(raw, 'paid_at') }} as paid_at,
        {{ parsed(raw, 'refund_at') }} as refunded_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
