"""Benchmark the extract pipelines against the emulators' real rate limits.

    uv run --frozen python -m bench.extract_bench [--learners 10000] [--seed 7]
        [--active-share 0.01] [--lms-real-backfill] [--skip-hubspot] [--compare-with COMMIT]

HubSpot (100 / 10 s): full backfill, then 1% of records mutated and an incremental run.
LearnWorlds (30 / 10 s): the backfill runs with the limit lifted by default (to count calls
and measure our own processing time) and the real-limit wall time is projected from the call
count; pass --lms-real-backfill to really wait. Then new activity for `--active-share` of the
learners (one step each: an enrollment or a completion, with its payment, grade, certificate)
and an incremental run, then a run with nothing new, both at the real limit. Reported: calls
per learner for the backfill, per active learner for the increment (and the calls above the
no-change floor), and the calls a day the real limit allows.

--compare-with COMMIT also runs that commit's LMS extract (the "old" strategy) on the same
school into a second warehouse, backfill and increment alike, builds the dbt models on both
and compares every mart (row count and a hash): the marts must be identical.
Results go to stdout and bench/results/extract.json (with the commit and the machine).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import _results as results
from bench import lms_marts_compare
from extract import ExtractResult, run_csv, run_hubspot, run_lms
from lmsbridge_core.http import LEARNWORLDS
from lmsbridge_core.settings import Settings
from sandbox.generator import generate
from sandbox.runner import SandboxProcess

RESULTS = Path(__file__).resolve().parent / "results" / "extract.json"
ROOT = RESULTS.parent.parent.parent
UNLIMITED = 1_000_000
DAY_S = 86_400
# The reads that tell whether anything happened: the API forces them on every run.
FLOOR_ROUTES = {
    "POST /admin/api/oauth2/access_token",
    "GET /admin/api/v2/users",
    "GET /admin/api/v2/courses",
    "GET /admin/api/v2/payments",
    "GET /admin/api/v2/event-logs",
}


def _settings(sb: SandboxProcess, warehouse: Path) -> Settings:
    values: dict[str, Any] = {k.removeprefix("LMSBRIDGE_").lower(): v for k, v in sb.env().items()}
    return Settings(_env_file=None, **{**values, "warehouse_path": warehouse})


def _measure(
    name: str, fn: Callable[[], ExtractResult], sb: SandboxProcess, which: str
) -> dict[str, Any]:
    sb.control_post(which, "calls/reset")
    started = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - started
    stats = sb.calls(which)  # type: ignore[arg-type]
    row = {
        "step": name,
        "wall_s": round(wall, 2),
        "calls": result.api_calls,
        "server_calls": stats["total"],
        "status_429": stats["status_429"],
        "rows": sum(result.rows_by_table.values()),
    }
    if which == "lms":
        outside: dict[str, int] = {}
        for r in stats["routes"]:
            route = f"{r['method']} {r['route']}"
            if route not in FLOOR_ROUTES:
                outside[route] = outside.get(route, 0) + int(r["count"])
        row["calls_outside_feeds"] = sum(outside.values())
        row["calls_by_route_outside_feeds"] = outside
    print(json.dumps(row), flush=True)
    return row


def _hubspot(settings: Settings, sb: SandboxProcess) -> list[dict[str, Any]]:
    steps = [_measure("hubspot_backfill", lambda: run_hubspot(settings), sb, "hubspot")]
    sb.control_post("hubspot", "mutate", {"fraction": 0.01, "seed": 1})
    steps.append(_measure("hubspot_incremental_1pct", lambda: run_hubspot(settings), sb, "hubspot"))
    return steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--active-share", type=float, default=0.01)
    parser.add_argument("--lms-real-backfill", action="store_true")
    parser.add_argument("--skip-hubspot", action="store_true")
    parser.add_argument("--compare-with", metavar="COMMIT")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="extract-bench-"))
    data = work / "data"
    generate(data, args.learners, args.seed)
    old_tree = (
        lms_marts_compare.unpack(args.compare_with, work / "old") if args.compare_with else None
    )
    old_wh = work / "old-warehouse" / "lmsbridge.duckdb"
    steps: list[dict[str, Any]] = []
    summary: dict[str, Any] = {}
    with SandboxProcess(data) as sb:  # real limits: 100 / 10 s HubSpot, 30 / 10 s LMS
        settings = _settings(sb, work / "warehouse" / "lmsbridge.duckdb")
        if not args.skip_hubspot:
            steps += _hubspot(settings, sb)

        if args.lms_real_backfill:
            backfill = _measure("lms_backfill", lambda: run_lms(settings), sb, "lms")
        else:
            sb.control_post("lms", "chaos", {"rate_max": UNLIMITED})
            backfill = _measure(
                "lms_backfill_unthrottled",
                lambda: run_lms(settings, rate=(UNLIMITED, 10.0)),
                sb,
                "lms",
            )
        per_s = LEARNWORLDS.default_rate[0] / LEARNWORLDS.default_rate[1]
        backfill["projected_wall_s_at_30_per_10s"] = round(backfill["calls"] / per_s, 1)
        backfill["calls_per_learner"] = round(backfill["calls"] / args.learners, 3)
        steps.append(backfill)
        if old_tree is not None:
            sb.control_post("lms", "calls/reset")
            calls = lms_marts_compare.run_old_lms(old_tree, sb.env(), old_wh, (UNLIMITED, 10.0))
            summary["old_backfill_calls"] = calls
            summary["old_backfill_calls_per_learner"] = round(calls / args.learners, 3)
            print(json.dumps({"old_backfill_calls": calls}), flush=True)
        sb.control_post("lms", "chaos", {"rate_max": 30})

        active = max(1, round(args.learners * args.active_share))
        report = sb.control_post("lms", "activity", {"learners": active, "seed": 1})
        inc = _measure("lms_incremental_active", lambda: run_lms(settings), sb, "lms")
        inc["active_learners"] = active
        inc["enrollment_steps"] = len(report["enrollments"])
        inc["completion_steps"] = len(report["completions"])
        inc["certificates"] = len(report["certificates"])
        steps.append(inc)
        if old_tree is not None:
            time.sleep(10)  # the old run starts with a full server window, like a new run
            sb.control_post("lms", "calls/reset")
            calls = lms_marts_compare.run_old_lms(old_tree, sb.env(), old_wh, None)
            summary["old_incremental_calls"] = calls
            summary["old_incremental_calls_per_active_learner"] = round(calls / active, 3)
        idle = _measure("lms_incremental_no_change", lambda: run_lms(settings), sb, "lms")
        steps.append(idle)
        extra = inc["calls"] - idle["calls"]
        inc["calls_per_active_learner"] = round(inc["calls"] / active, 3)
        inc["calls_above_floor_per_active_learner"] = round(extra / active, 3)
        # What the real limit buys in a day: learners backfilled, active learners followed.
        per_day = per_s * DAY_S
        summary["calls_per_day_at_client_pace"] = int(per_day)
        summary["backfill_learners_per_day"] = int(per_day / backfill["calls_per_learner"])
        summary["active_learners_per_15_min_run"] = int(
            (per_s * 900 - idle["calls"]) / max(extra / active, 1e-9)
        )

        if old_tree is not None:
            for warehouse in (settings.warehouse_path, old_wh):
                other = _settings(sb, Path(warehouse))
                sb.control_post("hubspot", "chaos", {"rate_max": UNLIMITED})
                run_hubspot(other)
                run_csv(other)
            as_of = (datetime.now(UTC) + timedelta(days=1)).date().isoformat() + "T00:00:00Z"
            compared = lms_marts_compare.build_and_compare(
                old_wh, Path(settings.warehouse_path), as_of, work
            )
            summary["marts_compare"] = {k: v for k, v in compared.items() if k != "fingerprints"}
            summary["mart_fingerprints"] = compared["fingerprints"]
            print(json.dumps(summary["marts_compare"]), flush=True)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": results.commit(),
            "learners": args.learners,
            "seed": args.seed,
            "machine": platform.platform(),
            "steps": steps,
            **summary,
        }
    )
    RESULTS.write_text(json.dumps(history, indent=2) + "\n")


if __name__ == "__main__":
    main()
