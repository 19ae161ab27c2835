{#- Which learner a history row known only by email belongs to. Several LearnWorlds learners
    may share an email (duplicate accounts): the oldest id takes the history, deterministically;
    those learners are reported as conflicts in identity anyway. -#}
with

learners as (
    select * from {{ ref('int_learners') }}
    where email_normalized is not null
),

ranked as (
    select
        email_normalized,
        learner_key,
        row_number() over (
            partition by email_normalized
            order by case when lms_user_id is null then 1 else 0 end, lms_user_id
        ) as learner_rank
    from learners
)

select
    email_normalized,
    learner_key
from ranked
where learner_rank = 1
