{#- The course_rules row that governs each course: a course row beats a category row beats
    the default row; at the same level a deny beats an allow, then the most points win.
    category: the course's category for attribution channels: the one whose rule governs,
    else its first category alphabetically (a course may have several). -#}
with

courses as (
    select course_id from {{ ref('stg_learnworlds__courses') }}
    union
    select course_id from {{ ref('int_learning_events_unioned') }}
),

categories as (
    select * from {{ ref('stg_learnworlds__course_categories') }}
),

rules as (
    select
        nullif(trim(course_id), '') as course_id,
        nullif(lower(trim(category)), '') as category,
        lower(trim(rule)) as rule,
        coalesce(points, 0) as points,
        nullif(trim(certifies_product), '') as certifies_product,
        coalesce(nudge_sales, false) as nudge_sales
    from {{ ref('course_rules') }}
),

first_categories as (
    select
        course_id,
        min(category) as category
    from categories
    group by course_id
),

course_rules as (
    select
        courses.course_id,
        cast(null as {{ dbt.type_string() }}) as category,
        rules.rule,
        rules.points,
        rules.certifies_product,
        rules.nudge_sales,
        1 as rule_level
    from courses
    inner join rules on courses.course_id = rules.course_id
),

category_rules as (
    select
        categories.course_id,
        categories.category,
        rules.rule,
        rules.points,
        rules.certifies_product,
        rules.nudge_sales,
        2 as rule_level
    from categories
    inner join rules on categories.category = rules.category
    where rules.course_id is null
),

default_rules as (
    select
        courses.course_id,
        cast(null as {{ dbt.type_string() }}) as category,
        rules.rule,
        rules.points,
        rules.certifies_product,
        rules.nudge_sales,
        3 as rule_level
    from courses
    -- the default rule is one seed row: joining every course to it is linear, not a product
    inner join rules on rules.course_id is null and rules.category is null
),

candidates as (
    select * from course_rules
    union all
    select * from category_rules
    union all
    select * from default_rules
),

ranked as (
    select
        *,
        row_number() over (
            partition by course_id
            order by rule_level asc, case when rule = 'deny' then 0 else 1 end asc, points desc
        ) as rule_choice
    from candidates
)

select
    ranked.course_id,
    coalesce(ranked.category, first_categories.category) as category,
    ranked.rule,
    ranked.rule_level,
    case when ranked.rule = 'allow' then ranked.points else 0 end as points,
    case when ranked.rule = 'allow' then ranked.certifies_product end as certifies_product,
    ranked.rule = 'allow' and ranked.nudge_sales as nudge_sales
from ranked
left join first_categories on ranked.course_id = first_categories.course_id
where ranked.rule_choice = 1
