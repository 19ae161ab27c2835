-- depends_on: {{ ref('rev_etl__hubspot_contacts') }}
-- Every product in the certified_products seed has its lms_certified_<product> contract
-- column in rev_etl__hubspot_contacts (adding a product is a contract change).
with

expected as (
    select {{ dbt.concat(["'lms_certified_'", 'product']) }} as column_name
    from {{ ref('certified_products') }}
),

actual as (
    {#- the relation's columns as the adapter reports them: information_schema is not on
        every engine (Spark has none) -#}
    {%- set found = [] %}
    {%- if execute %}
        {%- for column in adapter.get_columns_in_relation(ref('rev_etl__hubspot_contacts')) %}
            {%- set name = column.name | lower %}
            {%- if name.startswith('lms_certified_') and name != 'lms_certified_products' %}
                {%- do found.append(name) %}
            {%- endif %}
        {%- endfor %}
    {%- endif %}
    {%- for name in found %}
    select '{{ name }}' as column_name
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
        select cast(null as {{ dbt.type_string() }}) as column_name
        where 1 = 0
    {%- endfor %}
)

select
    coalesce(expected.column_name, actual.column_name) as column_name,
    case when actual.column_name is null then 'missing column' else 'column without product' end as problem
from expected
full outer join actual on expected.column_name = actual.column_name
where expected.column_name is null or actual.column_name is null
