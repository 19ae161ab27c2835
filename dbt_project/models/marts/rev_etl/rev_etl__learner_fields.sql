{#- What the two-way sync reads on the LMS side: each learner's profile and usage values as
    text, named as field mappings name them (see reverse_etl/syncs.yml `field_mappings`).
    Only learners the contacts sync may write (conflicted learners are out) with a LearnWorlds
    id, so a value can go both ways, and not deleted there (a write would answer 404). Usage
    fields are derived here and are read-only. -#}
{{ config(materialized='view') }}

with

learners as (
    select
        learner_key,
        lms_user_id,
        hubspot_contact_id
    from {{ ref('rev_etl__hubspot_contacts') }}
    where lms_user_id is not null and not lms_deleted
),

profile as (
    select
        lms_user_id,
        lms_field,
        lms_value
    from {{ ref('stg_learnworlds__user_fields') }}
),

users as (
    select * from {{ ref('stg_learnworlds__users') }}
),

payments as (
    select
        lms_user_id,
        max(paid_at) as last_purchase_at,
        count(*) as purchases_count
    from {{ ref('stg_learnworlds__payments') }}
    group by lms_user_id
),

engagement as (
    select * from {{ ref('fct_learner_engagement') }}
),

usage_values as (
    select
        users.lms_user_id,
        {{ iso_utc_text('users.last_login_at') }} as last_login,
        {{ iso_utc_text('users.created_at') }} as signed_up_at,
        {{ iso_utc_text('payments.last_purchase_at') }} as last_purchase_at,
        cast(payments.purchases_count as {{ dbt.type_string() }}) as purchases_count,
        cast(engagement.courses_completed_count as {{ dbt.type_string() }}) as courses_completed,
        {{ iso_utc_text('engagement.last_activity_at') }} as last_activity_at
    from users
    left join payments on users.lms_user_id = payments.lms_user_id
    left join learners on users.lms_user_id = learners.lms_user_id
    left join engagement on learners.learner_key = engagement.learner_key
),

usage as (
    {{ unpivot_text('usage_values', 'lms_user_id', [
        'last_login', 'signed_up_at', 'last_purchase_at', 'purchases_count',
        'courses_completed', 'last_activity_at'], name_prefix='usage.') }}
),

all_fields as (
    select * from profile
    union all
    select
        record_key as lms_user_id,
        field_name as lms_field,
        field_value as lms_value
    from usage
)

select
    learners.learner_key,
    learners.lms_user_id,
    learners.hubspot_contact_id,
    all_fields.lms_field,
    all_fields.lms_value,
    -- LearnWorlds has no modification time: when the extract read the user is what tells a
    -- copy taken before our own last write to the learner from one taken after it
    {{ from_unix_seconds(lmsbridge.try_cast('users.dlt_load_id', type_double())) }} as lms_read_at
from learners
inner join all_fields on learners.lms_user_id = all_fields.lms_user_id
inner join users on learners.lms_user_id = users.lms_user_id
