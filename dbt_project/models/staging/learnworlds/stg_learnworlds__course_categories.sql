{#- The one join in staging: a dlt child table only carries its parent's _dlt_id, so the
    course id has to be read from the parent row of the same entity. -#}
with

courses as (
    select
        dlt_id,
        course_id
    from {{ ref('stg_learnworlds__courses') }}
),

categories as (
    select
        _dlt_parent_id as dlt_parent_id,
        lower(trim(cast(value as {{ dbt.type_string() }}))) as category
    from {{ raw_source('raw_lms', 'courses__categories') }}
),

renamed as (
    select distinct
        courses.course_id,
        categories.category
    from categories
    inner join courses on categories.dlt_parent_id = courses.dlt_id
    where categories.category is not null
)

select * from renamed
