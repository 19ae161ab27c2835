{#- Merged-away contact id -> the live contact it now lives on, chains resolved: A merged into
    B, then B into C, maps both A and B to C. Identity, the reverse ETL's sync_state and the
    tasks key memory re-point through this, so nothing is ever written to a dead id. A
    survivor is an edge target that is not itself merged away; the hop cap only guards
    against a cycle in inconsistent raw data. -#}
with recursive

edges as (
    select * from {{ ref('stg_hubspot__contact_merges') }}
),

chains as (
    select
        merged_contact_id,
        into_contact_id,
        1 as hops
    from edges
    union all
    select
        chains.merged_contact_id,
        edges.into_contact_id,
        chains.hops + 1 as hops
    from chains
    inner join edges on chains.into_contact_id = edges.merged_contact_id
    where chains.hops < 20
),

resolved as (
    select
        chains.merged_contact_id,
        chains.into_contact_id as survivor_contact_id
    from chains
    where chains.into_contact_id not in (select edges.merged_contact_id from edges)
)

select
    merged_contact_id,
    -- Two survivors for one id only happen with stale raw copies; the lowest id is stable.
    min(survivor_contact_id) as survivor_contact_id
from resolved
group by merged_contact_id
