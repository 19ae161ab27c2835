"""The reverse-ETL plan's cost as a ratio to one scan of the mart it reads (issue 14, item 3).

A contacts mart of `--records` rows (200,000 by default) is planned and confirmed once, then
planned again with nothing changed (twice: the second is the steady state of a schedule whose
build was reused; then once more without the build record) and with 1% of the rows changed
by a new build, two ways in the same run:
- set-based (today's runner path: `_Run.plan`): SQL hands over only the changed rows;
- row by row (the path before it): every mart row read into Python and diffed there.
Each cost is CPU seconds of this process (all DuckDB threads), divided by the CPU seconds of
one scan of the mart (the unit of bench.scan), garbage collected before each measurement.
No HubSpot is involved: planning makes no calls.
Results go to bench/results/plan.json.

    uv run --frozen python -m bench.plan_bench [--records 200000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from lmsbridge_core import build_record
from lmsbridge_core.settings import Settings
from reverse_etl import state as st
from reverse_etl.config import load_config
from reverse_etl.plan import SyncPlan, build_plan
from reverse_etl.runner import _Run

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "plan.json"

MART = """
create schema if not exists marts;
create or replace table marts.rev_etl__hubspot_contacts as
select
    'k' || lpad(i::varchar, 8, '0') as learner_key,
    case when i % 10 = 0 then null else (100000000 + i)::varchar end as hubspot_contact_id,
    'learner' || i || '@example.com' as email,
    i % 3 <> 0 as marketing_consent,
    'u' || i as lms_user_id,
    'learnworlds' as lms_source,
    (i % 7)::bigint as lms_courses_completed_count,
    'Course ' || (i % 40) as lms_last_course_completed,
    date '2026-01-01' + (i % 300)::integer as lms_recent_course_completion_date,
    round((i % 1000) / 7.0, 2)::double as lms_engagement_score,
    case when i % 5 = 0 then 'analytics;security' end as lms_certified_products,
    i % 5 = 0 as lms_certified_analytics,
    false as lms_certified_automation,
    false as lms_certified_integrations,
    false as lms_certified_reporting,
    i % 5 = 0 as lms_certified_security,
    timestamptz '2026-01-01 00:00:00+00' + to_seconds(i * 37) as lms_last_activity_at,
    case when i % 4 = 0 then 'customer' end as lifecyclestage,
    false as lms_deleted,
    false as hubspot_contact_archived
from range({records}) as r(i);
"""


def cpu(action: Any) -> tuple[float, Any]:
    # Collect first: otherwise a full collection over the 200,000-row plans this bench keeps
    # for comparison can land inside the measured plan (0.3-0.4 CPU-s, more than the plan).
    gc.collect()
    started = time.process_time()
    value = action()
    return time.process_time() - started, value


def confirm_everything(con: duckdb.DuckDBPyConnection, run: _Run, plan: SyncPlan) -> None:
    """What HubSpot confirming every write would leave in sync_state."""
    hashes = run.source_hashes.get(plan.sync_name, {})
    confirmed = [
        (k, w.target, w.hashes[k], w.confirmed[k]) for w in plan.writes for k in w.record_keys
    ]
    st.confirm(con, plan.sync_name, confirmed + plan.noops, hashes)


def row_by_row(con: duckdb.DuckDBPyConnection, run: _Run) -> SyncPlan:
    """The plan as it was made before the set-based diff: every row through Python."""
    sync = next(s for s in run.config.syncs if s.name == "contacts")
    columns, rows = st.read_mart(con, sync.source)
    resolved = sync.resolve(columns)
    return build_plan(resolved, rows, st.load_state(con, resolved.name))


def measure(records: int, work: Path) -> dict[str, Any]:
    warehouse = work / "plan.duckdb"
    os.environ["LMSBRIDGE_WAREHOUSE_PATH"] = str(warehouse)
    con = st.connect(str(warehouse))
    con.execute(MART.format(records=records))
    st.ensure_tables(con)
    config = load_config(ROOT / "reverse_etl" / "syncs.yml")
    run = _Run(Settings(), con, config, None, dry_run=False, full=False, progress=None)
    contacts = next(s for s in config.syncs if s.name == "contacts")
    con.execute("checkpoint")
    scan = scan_cpu_s_open(con)

    first_s, (_, first) = cpu(lambda: run.plan(contacts))
    confirm_everything(con, run, first)
    figures: dict[str, Any] = {"first_plan_cpu_s": round(first_s, 3), "writes": len(first.writes)}

    # The pipeline records each dbt build it runs (lmsbridge_core.build_record); this bench
    # writes the mart itself, so it writes the record a build would leave.
    build_record.write(con, build_record.BuildRecord("first build", True, time.time()))
    # no_change: the first plan after a run that wrote (it stamps every row's source hash);
    # no_change_steady: every later scheduled run with nothing new, its build reused (the
    # state read, not the mart); no_change_unrecorded_build: the same without a build record
    # (a hand-made mart, a manual dbt run), once settled: one scan of the mart, then stop.
    for label in ("no_change", "no_change_steady", "no_change_unrecorded_build", "one_pct_changed"):
        if label == "no_change_unrecorded_build":
            # A manual dbt run dropped the record: its first plan diffs the mart once and
            # saves the mart's fingerprint (like `no_change`); the runs after it are measured.
            build_record.forget(con)
            _, (_, transition) = cpu(lambda: run.plan(contacts))
            confirm_everything(con, run, transition)
        if label == "one_pct_changed":
            con.execute(
                "update marts.rev_etl__hubspot_contacts set lms_engagement_score = "
                "lms_engagement_score + 1 where hash(learner_key) % 100 = 0"
            )
            build_record.write(con, build_record.BuildRecord("next build", True, time.time()))
        # A scheduled run opens a warehouse that dbt and the last run closed (checkpointed),
        # not one holding this bench's in-place update and confirms in memory; scans of those
        # cost ~1.5x more, and the scan unit above is taken on a checkpointed mart.
        con.execute("checkpoint")
        old_s, old_plan = cpu(lambda: row_by_row(con, run))
        new_s, (_, new_plan) = cpu(lambda: run.plan(contacts))
        confirm_everything(con, run, new_plan)
        figures[label] = {
            "writes": len(new_plan.writes),
            "same_writes_as_row_by_row": len(old_plan.writes) == len(new_plan.writes),
            "set_based_cpu_s": round(new_s, 3),
            "row_by_row_cpu_s": round(old_s, 3),
            "set_based_ratio_to_scan": round(new_s / scan, 2),
            "row_by_row_ratio_to_scan": round(old_s / scan, 2),
        }
    con.close()
    return {"records": records, "mart_scan_cpu_s": round(scan, 3), **figures}


def scan_cpu_s_open(con: duckdb.DuckDBPyConnection) -> float:
    """bench.scan's unit over the mart, through this connection (DuckDB refuses a second
    connection to a file this process holds)."""
    samples = []
    for _ in range(3):
        started = time.process_time()
        con.execute("select sum(hash(t)) from marts.rev_etl__hubspot_contacts as t").fetchone()
        samples.append(time.process_time() - started)
    return sorted(samples)[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="plan-bench-") as tmp:
        result = measure(args.records, Path(tmp))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    result |= {
        "commit": commit,
        "machine": f"{platform.machine()} {os.cpu_count()} cpus {platform.python_version()}",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    RESULTS.write_text(json.dumps([*history, result], indent=2) + "\n")


if __name__ == "__main__":
    main()
