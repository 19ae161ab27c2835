{#- One row per learner deleted in LearnWorlds, with when and how we found out. Two signals,
    as LearnWorlds documents no delete event: absence from the latest complete users read
    (int_learner_absences, dropped whole when its mass-deletion guard tripped) and a 404 on
    a per-user call newer than the last time the user was read. A learner read again after
    either signal is not deleted. The earliest signal wins. -#}
with

users as (
    select
        lms_user_id,
        seen_at
    from {{ ref('stg_learnworlds__users') }}
),

absences as (
    select
        lms_user_id,
        sweep_finished_at as detected_at,
        'absent_from_sweep' as detected_by
    from {{ ref('int_learner_absences') }}
    where not mass_deletion_guard_tripped
),

not_found as (
    select
        not_found.lms_user_id,
        not_found.detected_at,
        'not_found' as detected_by
    from {{ ref('stg_learnworlds__user_not_found') }} as not_found
    left join users on not_found.lms_user_id = users.lms_user_id
    where users.seen_at is null or not_found.detected_at > users.seen_at
),

ranked as (
    select
        detections.*,
        row_number() over (
            partition by detections.lms_user_id
            order by detections.detected_at asc nulls last, detections.detected_by asc
        ) as detection_rank
    from (
        select * from absences
        union all
        select * from not_found
    ) as detections
)

select
    -- the same key int_learners gives a LearnWorlds learner
    {{ generate_surrogate_key(["'lms'", 'lms_user_id']) }} as learner_key,
    lms_user_id,
    detected_at as lms_deleted_at,
    detected_by
from ranked
where detection_rank = 1
