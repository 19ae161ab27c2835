with

source as (
    {{ latest_version(raw_source('raw_lms', 'user_progress'), ['user_id', 'course_id'], ['completed_at']) }}
),

renamed as (
    select
        -- ids
        cast(user_id as {{ dbt.type_string() }}) as lms_user_id,
        cast(course_id as {{ dbt.type_string() }}) as course_id,

        -- strings
        lower(status) as progress_status,

        -- numerics
        {{ dbt.safe_cast('progress_rate', type_double()) }} as progress_rate,
        {{ dbt.safe_cast('average_score_rate', type_double()) }} as average_score_rate,
        {{ dbt.safe_cast('time_on_course', type_double()) }} as time_on_course_seconds,
        {{ dbt.safe_cast('total_units', dbt.type_int()) }} as total_units,
        {{ dbt.safe_cast('completed_units', dbt.type_int()) }} as completed_units,

        -- timestamps
        {{ from_unix_seconds('completed_at') }} as completed_at
    from source
)

select * from renamed
