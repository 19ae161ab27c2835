"""Benchmark the extract pipelines at 10,000 learners against the emulators' real rate limits.

    uv run --frozen python -m bench.extract_bench [--learners 10000] [--seed 7] [--lms-real-backfill]

HubSpot (100 / 10 s): full backfill, then 1% of records mutated and an incremental run.
LearnWorlds (30 / 10 s): a 10k backfill fans out ~2 calls per learner, which at 30 / 10 s
takes hours; by default it runs with the limit lifted (to count calls and measure our own
processing time) and the real-limit wall time is projected from the call count. Pass
--lms-real-backfill to really wait. The LMS incremental run (new activity for 20 learners)
is measured with the real limit.
Results go to stdout and bench/results/extract.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extract import run_hubspot, run_lms
from lmsbridge_core.http import LEARNWORLDS
from lmsbridge_core.settings import Settings
from sandbox.generator import generate
from sandbox.runner import SandboxProcess

RESULTS = Path(__file__).resolve().parent / "results" / "extract.json"
UNLIMITED = 1_000_000


def _settings(sb: SandboxProcess, warehouse: Path) -> Settings:
    values: dict[str, Any] = {k.removeprefix("LMSBRIDGE_").lower(): v for k, v in sb.env().items()}
    return Settings(_env_file=None, **{**values, "warehouse_path": warehouse})


def _measure(name: str, fn: Any, sb: SandboxProcess, which: str) -> dict[str, Any]:
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
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lms-real-backfill", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="extract-bench-"))
    data = work / "data"
    generate(data, args.learners, args.seed)
    steps: list[dict[str, Any]] = []
    with SandboxProcess(data) as sb:  # real limits: 100 / 10 s HubSpot, 30 / 10 s LMS
        settings = _settings(sb, work / "warehouse" / "lmsbridge.duckdb")
        steps.append(_measure("hubspot_backfill", lambda: run_hubspot(settings), sb, "hubspot"))
        sb.control_post("hubspot", "mutate", {"fraction": 0.01, "seed": 1})
        steps.append(
            _measure("hubspot_incremental_1pct", lambda: run_hubspot(settings), sb, "hubspot")
        )

        if args.lms_real_backfill:
            steps.append(_measure("lms_backfill", lambda: run_lms(settings), sb, "lms"))
        else:
            sb.control_post("lms", "chaos", {"rate_max": UNLIMITED})
            row = _measure(
                "lms_backfill_unthrottled",
                lambda: run_lms(settings, rate=(UNLIMITED, 10.0)),
                sb,
                "lms",
            )
            calls_per_s = LEARNWORLDS.default_rate[0] / LEARNWORLDS.default_rate[1]
            row["projected_wall_s_at_30_per_10s"] = round(row["calls"] / calls_per_s, 1)
            steps.append(row)
            sb.control_post("lms", "chaos", {"rate_max": 30})
        sb.control_post("lms", "activity", {"learners": 20, "seed": 1})
        steps.append(_measure("lms_incremental_20_learners", lambda: run_lms(settings), sb, "lms"))
        sb.control_post("lms", "calls/reset")
        steps.append(_measure("lms_incremental_no_change", lambda: run_lms(settings), sb, "lms"))

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append(
        {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "learners": args.learners,
            "seed": args.seed,
            "machine": platform.platform(),
            "steps": steps,
        }
    )
    RESULTS.write_text(json.dumps(history, indent=2) + "\n")


if __name__ == "__main__":
    main()
