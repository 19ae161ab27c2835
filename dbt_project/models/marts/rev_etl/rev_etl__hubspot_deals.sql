{#- Exactly what the reverse ETL writes to HubSpot deals (docs/contracts.md section 4): every
    live deal, with its learning-influence summary under the default attribution model
    (var default_attribution_model). Only learning touches count here: with CRM touches on
    (var include_crm_touches) the deal's credit is shared with calls, emails and meetings, and
    lms_attributed_amount is the learning share. Deals without learning touches get
    lms_influenced = false. -#}
{%- set model = var('default_attribution_model') -%}

with

deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

credits as (
    -- the learning share only: CRM touches (calls, emails, meetings) take part of the credit
    -- but are not what the lms_* properties report
    select
        *,
        row_number() over (
            partition by deal_id order by touch_index
        ) as learning_index,
        count(*) over (partition by deal_id) as learning_count
    from {{ ref('fct_deal_attribution') }}
    where attribution_model = '{{ model }}' and touch_source = 'learning'
),

summary as (
    select
        deal_id,
        count(*) as touch_count,
        count(distinct learner_key) as learners_count,
        max(case when learning_index = 1 then course_name end) as first_course,
        max(case when learning_index = learning_count then course_name end) as last_course,
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
