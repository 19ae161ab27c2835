with

source as (
    {{ latest_version(raw_source('raw_lms', 'payments'), ['id'], ['created']) }}
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
        {{ dbt.safe_cast('price', type_double()) }} as price,
        {{ dbt.safe_cast('discount', type_double()) }} as discount,

        -- timestamps
        {{ from_unix_seconds('created') }} as created_at,
        {{ from_unix_seconds('paid_at') }} as paid_at,
        {{ from_unix_seconds('refund_at') }} as refunded_at
    from source
)

select * from renamed
