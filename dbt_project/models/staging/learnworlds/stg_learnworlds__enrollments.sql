{%- set raw = raw_table('raw_lms', 'enrollments') -%}

with

source as (
    {{ latest_version(raw_source('raw_lms', 'enrollments'), ['user_id', 'course_id'], ['created']) }}
),

renamed as (
    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as lms_user_id,
        cast(course_id as {{ dbt.type_string() }}) as course_id,

        -- timestamps
        {{ parsed(raw, 'created') }} as enrolled_at,
        {{ parsed(raw, 'expires') }} as expires_at
    from source
)

select * from renamed
