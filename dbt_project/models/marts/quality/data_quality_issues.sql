{#- Every source value that staging could not type, kept with its record and the reason.

    Staging turns such a value into null and keeps the row (a build never fails on a
    value); this table is where the value itself stays visible. It reads the raw tables, not
    staging, because the raw text is exactly what staging cannot carry. Which columns are
    checked, and how they parse, comes from `meta.parse_as` in the source ymls, the same
    declaration staging uses. History CSV lines the loader rejected whole are listed too, so
    one table answers "what did we not take in, and why". So is a LearnWorlds users read
    the mass-deletion guard distrusted (int_learner_absences). -#}
{%- set checked = [
    ('raw_lms', 'users'),
    ('raw_lms', 'user_sweeps'),
    ('raw_lms', 'user_not_found'),
    ('raw_lms', 'courses'),
    ('raw_lms', 'enrollments'),
    ('raw_lms', 'user_progress'),
    ('raw_lms', 'certificates'),
    ('raw_lms', 'payments'),
    ('raw_lms', 'grades'),
    ('raw_lms', 'event_logs'),
    ('raw_lms', 'webhook_events'),
    ('raw_lms_files', 'lms_history_events'),
    ('raw_lms_files', 'rejected_rows'),
] -%}

with

value_issues as (
    {{ value_issue_rows(checked) }}
    select
        'raw_lms_files.rejected_rows' as source_table,
        {{ dbt.concat(['source_file', "':'", 'cast(source_line as ' ~ dbt.type_string() ~ ')']) }} as record_key,
        cast(null as {{ dbt.type_string() }}) as column_name,
        raw_line as raw_value,
        {{ dbt.concat(["'csv row rejected: '", 'reason']) }} as reason,
        'warn' as severity,
        _dlt_load_id as dlt_load_id
    from {{ raw_source('raw_lms_files', 'rejected_rows') }}
    union all
    -- a complete users read missing too many users is distrusted: say so instead of deleting
    select distinct
        'raw_lms.user_sweeps' as source_table,
        sweep_id as record_key,
        cast(null as {{ dbt.type_string() }}) as column_name,
        cast(absent_users as {{ dbt.type_string() }}) as raw_value,
        {{ dbt.concat([
            "'mass deletion guard: '",
            dbt.safe_cast('absent_users', dbt.type_string()),
            "' of '",
            dbt.safe_cast('expected_users', dbt.type_string()),
            "' LearnWorlds users are missing from the latest complete users read, more than var lms_deletion_max_share = "
                ~ var('lms_deletion_max_share') ~ "; no learner was marked deleted. Raise lms_deletion_max_share if they were really deleted'",
        ]) }} as reason,
        'warn' as severity,
        cast(null as {{ dbt.type_string() }}) as dlt_load_id
    from {{ ref('int_learner_absences') }}
    where mass_deletion_guard_tripped
),

-- a record landed twice with the same bad value is one issue
deduplicated as (
    select
        source_table,
        record_key,
        column_name,
        raw_value,
        reason,
        severity,
        max(dlt_load_id) as dlt_load_id
    from value_issues
    group by source_table, record_key, column_name, raw_value, reason, severity
)

select
    {{ generate_surrogate_key(['source_table', 'record_key', 'column_name', 'raw_value']) }} as issue_id,
    source_table,
    record_key,
    column_name,
    raw_value,
    reason,
    severity,
    {{ from_unix_seconds(try_cast('dlt_load_id', type_double())) }} as landed_at,
    {{ as_of_timestamp() }} as detected_at
from deduplicated
