"""Benchmark what every run pays before doing any work: CLI start-up and the scheduled dbt build.

    uv run --frozen python -m bench.startup_bench [--learners 2000] [--seed 1]
        [--sandbox-learners 60] [--no-sync] [--rounds 2]

1. `lmsbridge --help`: wall seconds, median of 5 (issue 14: <= 1 s on a quiet machine).
2. A no-op `lmsbridge sync --dry-run`: one `lmsbridge run` against a small sandbox, then the
   dry run (median of 3, checked to plan no change), and what its imports cost per package
   (`python -X importtime`). `--no-sync` skips this part.
3. dbt CPU seconds of a scheduled build (no unit tests) and of `lmsbridge build --full` (every
   node) on the same warehouse, each also as a ratio to one scan of every raw table
   (bench.scan, the unit of every issue-14 ratio). A first build, not compared, leaves the
   warehouse and dbt's partial-parse cache as a scheduled run finds them; then `--rounds`
   builds of each kind, interleaved, and the cheapest of each is kept.

CPU seconds of a child are its rusage (user + system, itself and the processes it waited
for), read as the change in this process's RUSAGE_CHILDREN around the call.
Results go to stdout and bench/results/startup.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._dbt_common import AS_OF, ROOT, generate, land_raw, run_dbt
from bench.scan import scan_cpu_s
from flows.dbt_step import build_command

RESULTS = Path(__file__).resolve().parent / "results" / "startup.json"
# The console script beside this interpreter (`uv run` puts the project's venv first).
LMSBRIDGE = Path(sys.executable).with_name("lmsbridge")
# Modules whose import the dry run reports: the heavy libraries of issue 14 and our entry
# points. Cumulative seconds, so nested ones overlap (reverse_etl's includes dlt's).
WATCHED = (
    "lmsbridge_cli.cli", "flows.pipeline", "reverse_etl", "dlt", "dbt", "prefect", "duckdb",
    "httpx", "pydantic",
)  # fmt: skip


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _child_cpu(into: dict[str, float]) -> Iterator[None]:
    before = _children_cpu_s()
    yield
    into["cpu_s"] = round(_children_cpu_s() - before, 2)


def _wall(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started


def _median_wall(command: list[str], times: int, env: dict[str, str] | None = None) -> float:
    return round(statistics.median(_wall(command, env) for _ in range(times)), 3)


def help_figures() -> dict[str, Any]:
    # One untimed call first: the OS file cache, as on any machine that ran lmsbridge before.
    _wall([str(LMSBRIDGE), "--help"])
    cpu: dict[str, float] = {}
    with _child_cpu(cpu):
        wall = _median_wall([str(LMSBRIDGE), "--help"], 5)
    # CPU seconds as well: unlike wall time they hold on a machine shared with other work.
    return {"help_wall_s": wall, "help_cpu_s": round(cpu["cpu_s"] / 5, 3), "help_runs": 5}


def import_costs(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Cumulative import seconds of each watched module (where first imported), and the
    total of every import."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *command],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    costs: dict[str, float] = {}
    total_us = 0
    for line in proc.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if not match:
            continue
        cumulative_us, indent, name = int(match.group(1)), match.group(2), match.group(3)
        total_us += 0 if indent else cumulative_us
        if name in WATCHED:
            costs.setdefault(name, round(cumulative_us / 1e6, 3))
    return {"all": round(total_us / 1e6, 3), **dict(sorted(costs.items(), key=lambda kv: -kv[1]))}


def sync_figures(work: Path, learners: int, seed: int) -> dict[str, Any]:
    from sandbox.generator import generate as generate_dataset
    from sandbox.runner import SandboxProcess

    fast = 100_000  # the emulators' limits lifted: this measures our start-up, not pacing
    generate_dataset(work / "sandbox", learners, seed, as_of=datetime.fromisoformat(AS_OF))
    with SandboxProcess(work / "sandbox", hubspot_rate_max=fast, lms_rate_max=fast) as sb:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LMSBRIDGE_", "PREFECT_"))}
        env |= sb.env() | {
            "LMSBRIDGE_WAREHOUSE_PATH": str(work / "sync" / "lmsbridge.duckdb"),
            "LMSBRIDGE_AS_OF": AS_OF,
            "LMSBRIDGE_LMS_RATE_CALLS": str(fast - 1000),
        }
        run_s = _wall([str(LMSBRIDGE), "run"], env)
        csv = work / "dry_run.csv"
        dry_run = [str(LMSBRIDGE), "sync", "--dry-run", "--csv", str(csv)]
        cpu: dict[str, float] = {}
        with _child_cpu(cpu):
            wall = _median_wall(dry_run, 3, env)
        changes = len(csv.read_text().splitlines()) - 1
        imports = import_costs(dry_run, env)
    return {
        "sandbox_learners": learners,
        "first_run_wall_s": round(run_s, 1),
        "noop_dry_run_wall_s": wall,
        "noop_dry_run_cpu_s": round(cpu["cpu_s"] / 3, 2),
        "noop_dry_run_planned_changes": changes,
        "noop_dry_run_import_s_cumulative": imports,
    }


def _node_kinds(work: Path) -> dict[str, int]:
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return dict(Counter(r["unique_id"].split(".")[0] for r in results))


def _build(warehouse: Path, work: Path, unit_tests: bool) -> dict[str, Any]:
    cpu: dict[str, float] = {}
    with _child_cpu(cpu):
        run = run_dbt(build_command(unit_tests=unit_tests), warehouse, work)
    return {**run, "cpu_s": cpu["cpu_s"], "nodes": _node_kinds(work)}


def _cheapest(samples: list[dict[str, Any]]) -> dict[str, Any]:
    # The least disturbed of the samples (other work on the machine only ever adds time).
    best = min(samples, key=lambda s: s["cpu_s"])
    return {**best, "cpu_s_samples": [s["cpu_s"] for s in samples]}


def dbt_figures(work: Path, learners: int, seed: int, rounds: int) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    generate(work / "dataset", learners, seed)
    warehouse = work / "lmsbridge.duckdb"
    land_raw(work / "dataset", warehouse)
    scan = scan_cpu_s(warehouse)
    first = _build(warehouse, work, unit_tests=True)  # not compared: creates every relation
    samples: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for _ in range(rounds):  # interleaved, so a busy spell does not hit one kind only
        for unit_tests in (False, True):
            samples[unit_tests].append(_build(warehouse, work, unit_tests))
    scheduled, full = _cheapest(samples[False]), _cheapest(samples[True])
    return {
        "learners": learners,
        "scan_cpu_s": round(scan, 3),
        "first_build_cpu_s": first["cpu_s"],
        "scheduled_build": scheduled,
        "full_build": full,
        "scheduled_cpu_per_scan": round(scheduled["cpu_s"] / scan, 1),
        "full_cpu_per_scan": round(full["cpu_s"] / scan, 1),
        "scheduled_vs_full_cpu": round(scheduled["cpu_s"] / full["cpu_s"], 3),
    }


def _step(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    figures = fn()
    print(f"{name} ({time.perf_counter() - started:.0f} s): {json.dumps(figures)}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=2000, help="for the dbt builds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sandbox-learners", type=int, default=60, help="for the no-op sync")
    parser.add_argument("--no-sync", action="store_true", help="skip the no-op sync figure")
    parser.add_argument("--rounds", type=int, default=2, help="builds of each kind (cheapest kept)")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    work = Path(tempfile.mkdtemp(prefix="startup-bench-"))
    try:
        result: dict[str, Any] = {
            "commit": commit or "unknown",
            "machine": f"{platform.machine()} {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f} at start",
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "cli": _step("cli", help_figures),
        }
        if not args.no_sync:
            result["sync"] = _step(
                "sync", lambda: sync_figures(work, args.sandbox_learners, args.seed)
            )
        result["dbt"] = _step(
            "dbt", lambda: dbt_figures(work / "dbt", args.learners, args.seed, args.rounds)
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
