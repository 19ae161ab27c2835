"""What publishing the BI snapshot costs in one pipeline run (issue "Cost that follows change").

    uv run --frozen python -m bench.publish_bench [--learners 100000] [--seed 1]
        [--baseline REV] [--warehouse PATH] [--keep DIR]

Generates a school, lands it raw and runs `dbt build` (bench/_dbt_common.py), or reuses a built
warehouse (`--warehouse`; its file must keep dbt's name, lmsbridge.duckdb, which the views
compile in). Then, in a child process so its memory peak is the publish's own, it drives
`flows.pipeline.run_pipeline` with every step but the publish stubbed out and counts the
publishes one run makes, their CPU seconds and the child's peak RSS. CPU seconds are given as
a ratio to `bench.scan.scan_cpu_s` of the same warehouse, the unit of every issue-14 ratio.

`--baseline REV` also measures the pipeline and publish code of commit REV (exported with
`git archive` into a temp folder; only this bench file is added to it) on the same warehouse,
so bench/results/publish.json holds "before" and "after" from one run.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench._dbt_common import generate, land_raw, run_dbt
from bench.scan import scan_cpu_s

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "publish.json"
WAREHOUSE_NAME = "lmsbridge.duckdb"


class _PublishOnlyRunner:
    """A StepRunner that runs the publish step for real and stubs every other step, so one
    run of the pipeline's own control flow shows how often it publishes."""

    def __init__(self) -> None:
        self.publishes = 0
        self.cpu_s = 0.0
        self.tables = 0

    def run(self, name: str, fn: Any, *args: Any, retry: bool = True) -> Any:
        if name != "publish-snapshot":
            # One sync result, so a pipeline that republishes after its syncs does so here.
            return [_SyncStub()]
        started = time.process_time()
        result = fn(*args)
        self.cpu_s += time.process_time() - started
        self.publishes += 1
        self.tables = result.tables
        return result

    def run_concurrently(self, steps: Any) -> list[Any]:
        return []

    def dbt_build(self, settings: Any) -> Any:
        from flows.dbt_step import DbtSummary

        return DbtSummary()


class _SyncStub:
    status = "ok"
    sent = rejected = calls = 0
    name = "contacts"


def child(warehouse: Path, published: Path) -> dict[str, Any]:
    """One pipeline run's publishes in this process (run by `--child`)."""
    from flows import pipeline
    from flows.summary import RunSummary
    from lmsbridge_core.settings import Settings

    # The code under test is the one in this child's working directory (a baseline export).
    if not Path(pipeline.__file__).resolve().is_relative_to(Path.cwd().resolve()):
        raise SystemExit(f"flows imported from {pipeline.__file__}, not {Path.cwd()}")
    settings = Settings(_env_file=None, warehouse_path=warehouse, published_path=published)
    rss_before = _peak_rss_kib()
    runner = _PublishOnlyRunner()
    pipeline.run_pipeline(settings, RunSummary(flow="bench"), runner)
    return {
        "publishes_per_run": runner.publishes,
        "cpu_s_per_run": round(runner.cpu_s, 3),
        "peak_rss_mb": round(_peak_rss_kib() / 1024, 1),
        "rss_before_publish_mb": round(rss_before / 1024, 1),
        "tables": runner.tables,
        "snapshot_mb": round(published.stat().st_size / 2**20, 1),
    }


def _peak_rss_kib() -> int:
    """This process's own high-water mark. Not ru_maxrss: Linux carries that across exec, so
    a child would report the peak of the parent that forked it (here: the raw landing)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure_publish(warehouse: Path, code_root: Path = ROOT) -> dict[str, Any]:
    """One run's publishes with the code in `code_root`, into a fresh published folder."""
    published = Path(tempfile.mkdtemp(prefix="published-", dir=warehouse.parent)) / warehouse.name
    command = [sys.executable, "-m", "bench.publish_bench", "--child", str(warehouse)]
    command.append(str(published))
    done = subprocess.run(command, cwd=code_root, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"publish child failed:\n{done.stderr[-4000:]}")
    shutil.rmtree(published.parent, ignore_errors=True)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def with_ratios(figures: dict[str, Any], scan: float) -> dict[str, Any]:
    per_run = figures["cpu_s_per_run"]
    per_publish = per_run / max(figures["publishes_per_run"], 1)
    return figures | {
        "cpu_s_per_publish": round(per_publish, 3),
        "ratio_per_publish": round(per_publish / scan, 2),
        "ratio_per_run": round(per_run / scan, 2),
    }


def export_commit(rev: str, into: Path) -> str:
    """The tree of `rev` in `into`, plus this bench (which that commit may not have yet)."""
    commit = _git("rev-parse", "--verify", f"{rev}^{{commit}}")
    if not commit:
        raise SystemExit(f"--baseline {rev}: not a commit of this repository")
    archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    shutil.copy(Path(__file__), into / "bench" / Path(__file__).name)
    return commit


def build_warehouse(work: Path, learners: int, seed: int) -> tuple[Path, dict[str, Any]]:
    started = time.perf_counter()
    generate(work / "dataset", learners, seed)
    warehouse = work / WAREHOUSE_NAME
    warehouse.unlink(missing_ok=True)
    _, raw_rows = land_raw(work / "dataset", warehouse)
    build = run_dbt(["build"], warehouse, work)
    setup = {"raw_rows": raw_rows, "dbt_peak_rss_mb": build["peak_rss_mb"]}
    return warehouse, setup | {"setup_s": round(time.perf_counter() - started, 1)}


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def record(report: dict[str, Any]) -> dict[str, Any]:
    runs = report["runs"]
    if "before" in runs:
        before, after = runs["before"], runs["after"]
        report["after_vs_before"] = {
            key: f"{before[key]} -> {after[key]}"
            for key in ("publishes_per_run", "ratio_per_run", "ratio_per_publish", "peak_rss_mb")
        }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return report


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(Path(sys.argv[2]), Path(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--baseline", default=None, help="also measure this commit's code")
    parser.add_argument("--warehouse", type=Path, default=None, help="a built warehouse to reuse")
    parser.add_argument("--keep", type=Path, default=None, help="keep dataset and warehouse here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="publish-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, Any] = {}
    try:
        if args.warehouse is not None:
            # A private copy: the publish opens its source read-write.
            warehouse = work / WAREHOUSE_NAME
            shutil.copy(args.warehouse, warehouse)
            setup: dict[str, Any] = {"reused_warehouse": str(args.warehouse)}
        else:
            warehouse, setup = build_warehouse(work, args.learners, args.seed)
        if args.baseline is not None:
            with tempfile.TemporaryDirectory(prefix="publish-baseline-") as code:
                commit = export_commit(args.baseline, Path(code))
                runs["before"] = {"commit": commit} | measure_publish(warehouse, Path(code))
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
        runs["after"] = {"commit": _git("rev-parse", "HEAD"), "uncommitted_changes": dirty}
        runs["after"] |= measure_publish(warehouse)
        # Once, after the publishes, so its pages do not sit in their memory peak.
        scan = scan_cpu_s(warehouse)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    report = {
        "bench": "publish",
        "learners": args.learners,
        "seed": args.seed,
        "machine": f"{platform.machine()} {platform.python_version()}, {os.cpu_count()} CPUs",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **setup,
        "scan_cpu_s": round(scan, 3),
        "runs": {label: with_ratios(figures, scan) for label, figures in runs.items()},
    }
    print(json.dumps(record(report), indent=2))


if __name__ == "__main__":
    main()
