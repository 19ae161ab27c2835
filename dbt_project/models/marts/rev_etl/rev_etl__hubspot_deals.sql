{#- Exactly what the reverse ETL writes to HubSpot deals (docs/contracts.md section 4): every
    live deal, with its learning-influence summary under the default attribution model
    (var default_attribution_model). Deals without touches get lms_influenced = false. -#}
{%- set model = var('default_attribution_model') -%}

with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

credits as (
    select * from {{ ref('fct_deal_attribution') }}
    where attribution_model = '{{ model }}'
),

summary as (
    select
        deal_id,
        count(*) as touch_count,
        count(distinct learner_key) as learners_count,
        max(case when touch_index = 1 then course_name end) as first_course,
        max(case when touch_index = touch_count then course_name end) as last_course,
        sum(attributed_amount) as attributed_amount
    from credits
    group by deal_id
),

course_credit as (
    select
        deal_id,
        course_name,
        sum(credit) as course_credit,
        min(touch_index) as first_index
    from credits
    group by deal_id, course_name
),

top_courses as (
    select
        deal_id,
        course_name,
        row_number() over (
            partition by deal_id order by course_credit desc, first_index asc
        ) as course_rank
    from course_credit
)

select
    deals.hubspot_deal_id,
    summary.deal_id is not null as lms_influenced,
    cast(coalesce(summary.touch_count, 0) as {{ dbt.type_int() }}) as lms_touch_count,
    cast(coalesce(summary.learners_count, 0) as {{ dbt.type_int() }}) as lms_learners_count,
    summary.first_course as lms_first_course,
    summary.last_course as lms_last_course,
    top_courses.course_name as lms_top_course,
    -- currency: cents are enough, and rounding keeps float noise out of the sync diff
    cast(round(summary.attributed_amount, 2) as {{ type_double() }}) as lms_attributed_amount,
    case when summary.deal_id is not null then '{{ model }}' end as lms_attribution_model
from deals
left join summary on deals.hubspot_deal_id = summary.deal_id
left join top_courses on deals.hubspot_deal_id = top_courses.deal_id and top_courses.course_rank = 1
