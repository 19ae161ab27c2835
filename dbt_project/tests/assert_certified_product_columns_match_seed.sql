-- depends_on: {{ ref('rev_etl__hubspot_contacts') }}
-- Every product in the certified_products seed has its lms_certified_<product> contract
-- column in rev_etl__hubspot_contacts (adding a product is a contract change).
with

expected as (
    select {{ dbt.concat(["'lms_certified_'", 'product']) }} as column_name
    from {{ ref('certified_products') }}
),

actual as (
    select lower(column_name) as column_name
    from information_schema.columns
    where
        lower(table_schema) = 'marts'
        and lower(table_name) = 'rev_etl__hubspot_contacts'
        and lower(column_name) like 'lms_certified_%'
        and lower(column_name) <> 'lms_certified_products'
)

select
    coalesce(expected.column_name, actual.column_name) as column_name,
    case when actual.column_name is null then 'missing column' else 'column without product' end as problem
from expected
full outer join actual on expected.column_name = actual.column_name
where expected.column_name is null or actual.column_name is null
