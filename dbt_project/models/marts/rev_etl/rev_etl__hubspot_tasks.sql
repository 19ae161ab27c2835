{#- One sales task per matched contact and nudge_sales course they completed, assigned to the
    contact's owner. "Completed" means an event of a type flagged nudges_sales in the
    event_types seed. task_key comes from int_task_keys: md5(contact id, course id) when first
    issued and kept from then on, also when HubSpot merges the contact into another one, so
    the writer upserts by it and a crash, rerun or merge never creates a second task.
    A completion older than var task_max_age_days at as_of gets no task: a rep cannot act on
    month-old news, and a first sync over history would flood them. The due date is as_of +
    task_due_in_days, so a task never arrives overdue; it moves with every build, which is
    harmless because the tasks sync creates each task once and never rewrites it. -#}
with

nudging_types as (
    select event_type
    from {{ ref('event_types') }}
    where nudges_sales
),

all_completions as (
    select
        events.hubspot_contact_id,
        events.course_id,
        min(events.course_name) as course_name,
        min(events.occurred_at) as first_completed_at,
        -- deleted only when every learner whose completion makes the task is
        min(case when coalesce(learners.is_deleted_in_lms, false) then 1 else 0 end) = 1
            as lms_deleted
    from {{ ref('fct_learning_events') }} as events
    left join {{ ref('dim_learners') }} as learners on events.learner_key = learners.learner_key
    where
        events.hubspot_contact_id is not null
        and events.event_type in (select nudging_types.event_type from nudging_types)
    group by events.hubspot_contact_id, events.course_id
),

completions as (
    select *
    from all_completions
    where
        first_completed_at
        >= {{ dbt.dateadd('day', -1 * (var('task_max_age_days') | int), as_of_timestamp()) }}
),

nudging_courses as (
    select course_id
    from {{ ref('int_course_rules_resolved') }}
    where nudge_sales
),

contacts as (
    select * from {{ ref('stg_hubspot__contacts') }}
),

ranked_task_keys as (
    -- A contact that absorbed another may hold several keys for one course: the key of the
    -- earliest completion is the task created first.
    select
        task_key,
        hubspot_contact_id,
        course_id,
        row_number() over (
            partition by hubspot_contact_id, course_id
            order by first_completed_at asc nulls last, task_key asc
        ) as key_rank
    from {{ ref('int_task_keys') }}
),

task_keys as (
    select * from ranked_task_keys
    where key_rank = 1
)

select
    task_keys.task_key,
    completions.hubspot_contact_id,
    contacts.hubspot_owner_id,
    completions.course_id,
    completions.first_completed_at as completed_at,
    {{ dbt.concat([
        "'Follow up: '",
        "coalesce(nullif(trim(" ~ dbt.concat(["coalesce(contacts.first_name, '')", "' '", "coalesce(contacts.last_name, '')"]) ~ "), ''), contacts.email, 'contact')",
        "' completed '",
        "coalesce(completions.course_name, completions.course_id)",
    ]) }} as hs_task_subject,
    {{ dbt.concat([
        "'Completed the course \"'",
        "coalesce(completions.course_name, completions.course_id)",
        "'\" on '",
        utc_text('completions.first_completed_at'),
        "'. This course signals buying intent: reach out while it is fresh.'",
    ]) }} as hs_task_body,
    {{ dbt.dateadd('day', var('task_due_in_days'), as_of_timestamp()) }} as hs_timestamp,
    'NOT_STARTED' as hs_task_status,
    'HIGH' as hs_task_priority,
    'TODO' as hs_task_type,
    completions.lms_deleted
from completions
inner join nudging_courses on completions.course_id = nudging_courses.course_id
inner join contacts on completions.hubspot_contact_id = contacts.hubspot_contact_id
inner join task_keys
    on
        completions.hubspot_contact_id = task_keys.hubspot_contact_id
        and completions.course_id = task_keys.course_id
