"""What a `dbt build` costs as the data changes: full, with nothing new, after +1% activity.

    uv run --frozen python -m bench.dbt_incremental_bench [--learners 100000] [--seed 1]
        [--activity-share 0.01] [--raw WAREHOUSE] [--keep DIR]

One run: generate and land a dataset (or copy an already landed `--raw` warehouse), measure one
scan of the raw tables (bench/scan.py, the unit of every ratio), then on the same warehouse:
`dbt build` (models, seeds, data and unit tests) first; a scheduled run's build step with
nothing new (`lmsbridge build --if-changed`, which reuses that build); `dbt build` again with
nothing new, and again after new raw rows for `--activity-share` of the learners; a scheduled
run's build command (no unit tests) after another such increment; then the models alone (`dbt
run`): `--full-refresh`, with nothing new, and after another such increment; last, the
scheduled build's command on a 30-learner dataset (the floor: what dbt costs whatever the
data). Each step is CPU seconds
of the dbt process and everything it started, as a ratio to the scan and to its full
counterpart, with its peak RSS and dbt's node seconds by kind. Results go to stdout and are
appended to bench/results/dbt.json with the commit and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bench import _results as results
from bench._dbt_common import AS_OF, landed_warehouse, run_dbt, run_measured
from bench.dbt_bench import RESULTS
from bench.scan import scan_cpu_s
from flows import build_inputs
from flows.dbt_step import build_command
from lmsbridge_core.settings import Settings

# The load id the n-th increment's rows carry: after any dlt load id of the landed dataset
# (dlt's ids are unix seconds as text, so a later time sorts after as text too).
INCREMENT_LOAD_ID = "9999999999.{:06d}"
DAY_S = 86_400.0


def append_activity(warehouse: Path, share: float, increment: int = 1) -> dict[str, int]:
    """New raw rows for `share` of the learners, as a later dlt merge load would land them:
    a completed course (a changed user_progress row replaces the old one), a passed grade, a
    certificate, a payment and an event-log entry each, one day before the newest event.
    Each `increment` picks other learners and makes other ids."""
    every = max(1, round(1 / share))
    chosen = f"hash(user_id || '{increment}') % {every} = 0"
    load_id = INCREMENT_LOAD_ID.format(increment)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "create temp table picked as select distinct user_id from raw_lms.enrollments "
            f"where {chosen}"
        )
        newest = con.execute("select max(created) from raw_lms.enrollments").fetchone()[0]
        at = float(newest or 0) - DAY_S
        counts: dict[str, int] = {}

        def insert(table: str, select: str) -> None:
            before = con.execute(f"select count(*) from raw_lms.{table}").fetchone()[0]
            con.execute(f"insert into raw_lms.{table} by name ({select})")
            after = con.execute(f"select count(*) from raw_lms.{table}").fetchone()[0]
            counts[table] = after - before

        # merge disposition: the changed progress row replaces the landed one
        progress = (
            "select * replace ('completed' as status, 100.0 as progress_rate, "
            f"{at} as completed_at, '{load_id}' as _dlt_load_id, "
            "_dlt_id || '+' as _dlt_id) "
            "from raw_lms.user_progress where user_id in (select user_id from picked) "
            "and coalesce(status, '') <> 'completed' "
            "qualify row_number() over (partition by user_id order by course_id) = 1"
        )
        con.execute(f"create temp table changed_progress as {progress}")
        con.execute(
            "delete from raw_lms.user_progress where (user_id, course_id) in "
            "(select (user_id, course_id) from changed_progress)"
        )
        insert("user_progress", "select * from changed_progress")
        for table, id_column, time_column, user_column in (
            ("grades", "id", "created", "user_id"),
            ("certificates", "id", "issued", "user__id"),
            ("payments", "id", "created", "user_id"),
            ("event_logs", "event_log_id", "created", "user__id"),
        ):
            # a copy of each chosen learner's first row under a new id and a later time
            insert(
                table,
                f"select * replace ({id_column} || '-inc{increment}' as {id_column}, "
                f"{at} as {time_column}, '{load_id}' as _dlt_load_id, "
                "_dlt_id || '+' as _dlt_id) "
                f"from raw_lms.{table} where {user_column} in (select user_id from picked) "
                f"qualify row_number() over (partition by {user_column} order by {id_column}) = 1",
            )
        counts["learners"] = con.execute("select count(*) from picked").fetchone()[0]
    return counts


def node_seconds(work: Path) -> dict[str, float]:
    """Seconds dbt spent in nodes of each kind (models, tests, unit tests, seeds) in its last
    invocation: what the CPU total is made of besides dbt's own start-up."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    totals: dict[str, float] = {}
    for result in results:
        kind = result["unique_id"].split(".", 1)[0]
        totals[kind] = totals.get(kind, 0.0) + float(result["execution_time"])
    return {kind: round(seconds, 2) for kind, seconds in sorted(totals.items())}


def scheduled_settings(warehouse: Path) -> Settings:
    return Settings(_env_file=None, warehouse_path=warehouse, as_of=datetime.fromisoformat(AS_OF))


def scheduled_build(warehouse: Path, work: Path) -> dict[str, Any]:
    """`lmsbridge build --if-changed` in a child process: a scheduled run's build step."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")},
        "LMSBRIDGE_WAREHOUSE_PATH": str(warehouse),
        "LMSBRIDGE_AS_OF": AS_OF,
    }
    command = [sys.executable, "-c", "from lmsbridge_cli.cli import app; app()"]
    log = work / "scheduled_build.log"
    step = run_measured([*command, "build", "--if-changed", "--no-publish"], env, log)
    if "build skipped" not in log.read_text():
        raise SystemExit(f"the scheduled build did not reuse the recorded one:\n{log.read_text()}")
    return step


FLOOR_LEARNERS = 30


def floor(work: Path) -> dict[str, Any]:
    """The scheduled build's command on a dataset of FLOOR_LEARNERS learners (after one build
    of it): what dbt costs whatever the data, its start-up and a few ms per node. An
    incremental build of any size costs at least this."""
    small = work / "floor"
    small.mkdir(exist_ok=True)
    warehouse = small / "lmsbridge.duckdb"
    warehouse.unlink(missing_ok=True)
    landed_warehouse(small, warehouse, FLOOR_LEARNERS, 1, None)
    run_dbt(build_command(), warehouse, small)
    return {**run_dbt(build_command(), warehouse, small), "learners": FLOOR_LEARNERS}


def measure(
    learners: int, seed: int, share: float, raw: Path | None, keep: Path | None
) -> dict[str, object]:
    work = keep or Path(tempfile.mkdtemp(prefix="dbt-inc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "lmsbridge.duckdb"
    warehouse.unlink(missing_ok=True)
    try:
        landed_warehouse(work, warehouse, learners, seed, raw)
        scan = scan_cpu_s(warehouse)
        steps: dict[str, dict[str, Any]] = {}

        def build(name: str, args: list[str]) -> None:
            steps[name] = {**run_dbt(args, warehouse, work), "node_s": node_seconds(work)}

        # `dbt build`: models, seeds, data tests and unit tests
        build("full", ["build"])
        # A scheduled run's build step with nothing new: the pipeline records the inputs of
        # the build it just ran (as here), the next run compares and reuses it.
        settings = scheduled_settings(warehouse)
        build_inputs.record(settings, build_inputs.fingerprint(settings))
        steps["scheduled_no_change"] = scheduled_build(warehouse, work)
        build("no_change", ["build"])
        appended = append_activity(warehouse, share, 1)
        build("after_new_activity", ["build"])
        # What a scheduled run builds after new activity: the same command without unit tests
        append_activity(warehouse, share, 3)
        build("scheduled_after_new_activity", build_command())
        # the models alone (`dbt run`): what incremental models change, without the tests
        build("run_full_refresh", ["run", "--full-refresh"])
        build("run_no_change", ["run"])
        append_activity(warehouse, share, 2)
        build("run_after_new_activity", ["run"])
        with duckdb.connect(str(warehouse), read_only=True) as con:
            events = con.execute("select count(*) from marts.fct_learning_events").fetchone()[0]
        steps["scheduled_floor"] = floor(work)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)

    def ratios(name: str, full: str) -> dict[str, Any]:
        cpu = steps[name]["cpu_s"]
        shares = {
            "x_scan": round(cpu / scan, 2),
            "share_of_full": round(cpu / steps[full]["cpu_s"], 3),
        }
        return {**steps[name], **shares}

    return {
        "bench": "dbt_incremental",
        "learners": learners,
        "seed": seed,
        "activity_share": share,
        "appended_rows": appended,
        "learning_events": events,
        "scan_cpu_s": round(scan, 3),
        **{
            name: ratios(name, "full")
            for name in (
                "full",
                "scheduled_no_change",
                "no_change",
                "after_new_activity",
                "scheduled_after_new_activity",
                "scheduled_floor",
            )
        },
        **{
            name: ratios(name, "run_full_refresh")
            for name in ("run_full_refresh", "run_no_change", "run_after_new_activity")
        },
        "commit": results.commit(),
        "machine": results.machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def record(result: dict[str, object]) -> None:
    results.record(RESULTS, result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--activity-share", type=float, default=0.01)
    parser.add_argument("--raw", type=Path, default=None, help="copy this landed warehouse")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work directory here")
    args = parser.parse_args()
    result = measure(args.learners, args.seed, args.activity_share, args.raw, args.keep)
    record(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
