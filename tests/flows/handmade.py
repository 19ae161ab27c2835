"""A tiny warehouse with the marts' contract columns, built by hand for fast tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

SQL = """
create schema marts;
create schema reverse_etl;
create table marts.dim_learners as select * from (values
  ('l1', 'u1', 'a@x.com', 'a@x.com', 'c1', 'co1', 'lms_user_id', 'association', true),
  ('l2', 'u2', 'b@x.com', 'b@x.com', 'c2', null, 'email', 'none', false),
  ('l3', 'u3', 'c@x.com', 'c@x.com', null, null, 'none', 'none', false)
) t(learner_key, lms_user_id, email, email_normalized, hubspot_contact_id, hubspot_company_id,
    match_method, company_match_method, marketing_consent);
create table marts.identity_conflicts as select * from (values
  ('l3', 'two contacts share the primary email')) t(learner_key, reason);
create table marts.fct_learning_events as select * from (values
  ('e1', 'l1', 'c1', 'k1', 'Kubernetes 101', 'enrolled', null, timestamptz '2026-01-01', 'api'),
  ('e2', 'l1', 'c1', 'k1', 'Kubernetes 101', 'completed', 90.0, timestamptz '2026-01-05', 'api'),
  ('e3', 'l2', 'c2', 'k1', 'Kubernetes 101', 'enrolled', null, timestamptz '2026-01-02', 'csv'),
  ('e4', 'l1', 'c1', 'k2', 'Terraform', 'purchase', null, timestamptz '2026-01-09', 'api')
) t(event_id, learner_key, hubspot_contact_id, course_id, course_name, event_type, score,
    occurred_at, source);
create table marts.fct_deal_attribution as select * from (values
  ('d1', 'e2', 'c1', 'k1', 'completed', timestamptz '2026-01-05', 'linear', 0.5, 500.0),
  ('d1', 'e4', 'c1', 'k2', 'purchase', timestamptz '2026-01-09', 'linear', 0.5, 500.0),
  ('d1', 'e2', 'c1', 'k1', 'completed', timestamptz '2026-01-05', 'first_touch', 1.0, 1000.0)
) t(deal_id, touchpoint_id, hubspot_contact_id, course_id, event_type, touched_at,
    attribution_model, credit, attributed_amount);
create table reverse_etl.sync_runs as select * from (values
  ('r1', 'contacts', timestamptz '2026-01-10 10:00', timestamptz '2026-01-10 10:01', false,
   2, 2, 2, 0, 0, 3, 0, 1.5, 'ok', null)
) t(run_id, sync_name, started_at, finished_at, dry_run, planned, sent, succeeded, rejected,
    unchanged, calls, status_429, duration_s, status, error);
create table reverse_etl.rejected_rows as select * from (values
  ('r1', 'contacts', 'l9', 'INVALID_EMAIL', 'bad email', '{}', timestamptz '2026-01-10 10:01')
) t(sync_run_id, sync_name, record_key, category, message, row_payload, rejected_at);
"""


def make_warehouse(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(SQL)
    return path
