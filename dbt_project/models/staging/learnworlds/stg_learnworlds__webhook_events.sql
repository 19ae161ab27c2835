{#- Append-mostly: each build reads only rows of loads newer than its newest (new_loads);
    a record that comes back changed replaces its old row by the key. -#}
{{ config(
    materialized='incremental',
    tags=['learning_events'],
    unique_key='webhook_delivery_id',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
{%- set raw = raw_table('raw_lms', 'webhook_events') -%}

with

source as (
    {{ latest_version(new_loads(raw_source('raw_lms', 'webhook_events')), ['delivery_id'], ['received_at']) }}
),

renamed as (
    select
        -- ids
        cast(delivery_id as {{ dbt.type_string() }}) as webhook_delivery_id,
        cast(data__user__id as {{ dbt.type_string() }}) as lms_user_id,
        cast(data__course__id as {{ dbt.type_string() }}) as course_id,
        cast(data__certificate__id as {{ dbt.type_string() }}) as certificate_id,
        cast(data__certificate__course_id as {{ dbt.type_string() }}) as certificate_course_id,
        cast(data__payment__id as {{ dbt.type_string() }}) as payment_id,
        cast(data__payment__product__id as {{ dbt.type_string() }}) as payment_product_id,
        school_id,
        -- learner account webhooks (the extract declares data.id, data.tag and data.product;
        -- the JSON columns exist once dlt has landed such a payload):
        -- userTagAdded/userTagDeleted put the user's fields at the root of data, and
        -- subscriptionPaymentPlanBought nests the user as data.user.user (reference section 4),
        -- deeper than dlt flattens: it lands as JSON, like data.payment.product
        {{ raw_optional_text(raw, 'data__id') }} as data_root_user_id,
        {{ json_text_field(raw_optional_text(raw, 'data__user__user'), 'id') }} as nested_user_id,
        {{ json_text_field(raw_optional_text(raw, 'data__payment__product'), 'id') }}
            as payment_product_json_id,
        -- userUnenrolledFromProduct, subscriptionPaymentPlanCanceled: data.product
        {{ raw_optional_text(raw, 'data__product__id') }} as product_id,

        -- strings
        type as webhook_type,
        trigger as webhook_trigger,
        data__user__email as user_email,
        data__course__title as course_title,
        data__payment__product__type as payment_product_type,
        {{ raw_optional_text(raw, 'data__product__title') }} as product_title,
        -- the tag a userTagAdded/userTagDeleted is about (field name unconfirmed by the reference)
        {{ raw_optional_text(raw, 'data__tag') }} as tag_name,

        -- numerics
        {{ parsed(raw, 'data__certificate__score') }} as certificate_score,
        nullif(trim(data__certificate__score), '') as certificate_score_text,
        {{ parsed(raw, 'data__payment__price') }} as payment_price,

        -- timestamps (payload times are unix seconds; received_at is ours)
        {{ parsed(raw, 'received_at') }} as received_at,
        {{ parsed(raw, 'data__completed_at') }} as completed_at,
        {{ parsed(raw, 'data__date') }} as event_date_at,
        {{ parsed(raw, 'data__certificate__issued') }} as certificate_issued_at,
        {{ parsed(raw, 'data__payment__created') }} as payment_created_at,

        -- the dlt load that brought the row (new_loads' high-water mark)
        _dlt_load_id
    from source
)

select * from renamed
