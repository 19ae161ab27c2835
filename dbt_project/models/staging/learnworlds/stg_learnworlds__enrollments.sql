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
        {{ from_unix_seconds('created') }} as enrolled_at,
        {{ from_unix_seconds('expires') }} as expires_at
    from source
)

select * from renamed
