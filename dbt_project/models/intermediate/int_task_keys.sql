{#- Every task key ever issued, kept across runs, with the contact it now belongs to.
    A task key is md5(contact id, course id) of the contact the learner had when the course
    was first completed. When HubSpot merges that contact away, the remembered key follows the
    survivor (int_contact_merges), so the tasks mart keeps sending the key of the task that
    already exists instead of minting md5(survivor, course) and creating a second task.
    Upgrades keep their tasks: the first build issues exactly the md5(contact, course) keys
    earlier versions used. Only a merge that happened before that first build (or before a
    --full-refresh) is not remembered. -#}
{{ config(
    materialized='incremental',
    unique_key='task_key',
    incremental_strategy=lmsbridge.upsert_strategy(),
) }}
-- depends_on: {{ ref('int_contact_merges') }}

with

nudging_types as (
    select event_type
    from {{ ref('event_types') }}
    where nudges_sales
),

pairs as (
    select
        hubspot_contact_id,
        course_id,
        min(occurred_at) as first_completed_at
    from {{ ref('fct_learning_events') }}
    where
        hubspot_contact_id is not null
        and event_type in (select nudging_types.event_type from nudging_types)
    group by hubspot_contact_id, course_id
)

{% if is_incremental() %}

    , contact_merges as (
        select * from {{ ref('int_contact_merges') }}
    ),

    remembered as (
        select
            previous.task_key,
            coalesce(contact_merges.survivor_contact_id, previous.hubspot_contact_id) as hubspot_contact_id,
            previous.course_id,
            previous.first_completed_at
        from {{ this }} as previous
        left join contact_merges on previous.hubspot_contact_id = contact_merges.merged_contact_id
    ),

    new_pairs as (
        select pairs.*
        from pairs
        left join remembered
            on
                pairs.hubspot_contact_id = remembered.hubspot_contact_id
                and pairs.course_id = remembered.course_id
        where remembered.task_key is null
    )

    select
        task_key,
        hubspot_contact_id,
        course_id,
        first_completed_at
    from remembered
    union all
    select
        {{ dbt.hash(dbt.concat(['hubspot_contact_id', "'|'", 'course_id'])) }} as task_key,
        hubspot_contact_id,
        course_id,
        first_completed_at
    from new_pairs

{% else %}

    select
        {{ dbt.hash(dbt.concat(['hubspot_contact_id', "'|'", 'course_id'])) }} as task_key,
        hubspot_contact_id,
        course_id,
        first_completed_at
    from pairs

{% endif %}
