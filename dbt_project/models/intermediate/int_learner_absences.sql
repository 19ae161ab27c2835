{#- Learners the latest complete read of LearnWorlds' users did not see. LearnWorlds has no
    user-deleted event, so absence is how a delete shows: a user registered before that sweep
    began and last seen before it was no longer in the school. The mass-deletion guard flags
    the sweep when more than var lms_deletion_max_share of the users it should have seen are
    absent: a broken read looks the same as a mass delete, so then nothing is inferred
    (int_learner_deletions) and marts.data_quality_issues says why. -#}
with

users as (
    select
        lms_user_id,
        created_at,
        seen_at
    from {{ ref('stg_learnworlds__users') }}
),

ranked_sweeps as (
    select
        sweep_id,
        started_at,
        finished_at,
        row_number() over (order by started_at desc, sweep_id desc) as sweep_rank
    from {{ ref('stg_learnworlds__user_sweeps') }}
    where started_at is not null and finished_at is not null
),

latest_sweep as (
    select * from ranked_sweeps
    where sweep_rank = 1
),

-- only users registered before the sweep began could be in it; a null seen_at is never seen
expected as (
    select
        users.lms_user_id,
        users.seen_at,
        latest_sweep.sweep_id,
        latest_sweep.started_at as sweep_started_at,
        latest_sweep.finished_at as sweep_finished_at,
        (users.seen_at is null or users.seen_at < latest_sweep.started_at) as is_absent
    from users
    cross join latest_sweep
    where users.created_at < latest_sweep.started_at
),

totals as (
    select
        count(*) as expected_users,
        sum(case when is_absent then 1 else 0 end) as absent_users
    from expected
)

select
    {{ generate_surrogate_key(["'lms'", 'expected.lms_user_id']) }} as learner_key,
    expected.lms_user_id,
    expected.seen_at as last_seen_at,
    expected.sweep_id,
    expected.sweep_started_at,
    expected.sweep_finished_at,
    totals.absent_users,
    totals.expected_users,
    totals.absent_users > totals.expected_users * {{ var('lms_deletion_max_share') }}
        as mass_deletion_guard_tripped
from expected
cross join totals
where expected.is_absent
