"""What the hand-made warehouse lacks for the report's revenue, identity and run sections:
fct_deals, dim_learners.first_match_method, course names and a CRM touch in the attribution,
and sync_runs.pipeline_run_id. Added on top of handmade.make_warehouse, so the tests of an
older warehouse (without them) keep their fixture."""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL = """
create table marts.fct_deals as select * from (values
  ('d1', 'Acme renewal', 'default', 'closedwon', 'won', 1000.0, 'USD', 'c1', true, 2, 1000.0),
  ('d2', 'Beta pilot', 'default', 'closedlost', 'lost', 400.0, 'USD', null, true, 1, 400.0),
  ('d3', 'Gamma expansion', 'default', 'contractsent', 'open', 2000.0, 'USD', null, false, 0, 0.0)
) t(deal_id, deal_name, pipeline, deal_stage, deal_status, amount, currency, hubspot_company_id,
    lms_influenced, lms_touch_count, lms_attributed_amount);
alter table marts.fct_deals add column attribution_model varchar default 'linear';
alter table marts.fct_deals add column as_of timestamptz default timestamptz '2026-12-02 00:00:00+00';

alter table marts.fct_deal_attribution add column course_name varchar;
update marts.fct_deal_attribution
  set course_name = case course_id when 'k1' then 'Kubernetes 101' else 'Terraform' end;
insert into marts.fct_deal_attribution values
  -- a CRM touch (no course): credit in the model, but not learning revenue
  ('d1', 'm1', 'c1', null, 'meeting', timestamptz '2026-01-07', 'linear', 0.3, 300.0, null),
  -- learning credit on a lost deal: never closed-won revenue
  ('d2', 'e3', 'c2', 'k1', 'enrolled', timestamptz '2026-01-02', 'linear', 1.0, 400.0,
   'Kubernetes 101');

-- l1 earns its certificate, so it reaches every funnel step
insert into marts.fct_learning_events values
  ('e5', 'l1', 'c1', 'k1', 'Kubernetes 101', 'certificate_issued', null,
   timestamptz '2026-01-06', 'api');

alter table marts.dim_learners add column first_match_method varchar;
-- l1 was matched by email before the write-back of lms_user_id made it an id match
update marts.dim_learners set first_match_method = case learner_key
  when 'l1' then 'email' else match_method end;

alter table reverse_etl.sync_runs add column pipeline_run_id varchar;
insert into reverse_etl.sync_runs values
  ('r2', 'contacts', timestamptz '2026-01-11 09:00', timestamptz '2026-01-11 09:01', false,
   1, 1, 1, 0, 1, 2, 0, 1.0, 'ok', null, 'p2'),
  ('r3', 'deals', timestamptz '2026-01-11 09:01', timestamptz '2026-01-11 09:02', false,
   3, 3, 2, 1, 0, 1, 1, 0.5, 'partial', null, 'p2');
"""


def add_revenue_and_runs(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(SQL)
    return path
