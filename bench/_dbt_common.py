"""Shared steps for the dbt benchmarks: generate a dataset, land it raw, run dbt."""

from __future__ import annotations

import contextlib
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

from extract.dataset_source import land_dataset
from lmsbridge_core.dbt_invocation import DbtInvocation

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-06-01T00:00:00Z"


def generate(out: Path, learners: int, seed: int, activity_scale: float = 1.0) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "sandbox", "generate", "--learners", str(learners)]
    command += ["--seed", str(seed), "--out", str(out), "--as-of", AS_OF]
    command += ["--activity-scale", str(activity_scale)]
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
    return time.perf_counter() - started


def land_raw(dataset: Path, warehouse: Path) -> tuple[float, int]:
    """The dataset landed by the extract's dlt pipelines (docs/contracts.md section 3)."""
    started = time.perf_counter()
    counts = land_dataset(dataset, warehouse)
    return time.perf_counter() - started, sum(counts.values())


def landed_warehouse(
    work: Path, warehouse: Path, learners: int, seed: int, raw: Path | None
) -> None:
    """`warehouse` with raw tables: a copy of the already landed `raw`, else a dataset
    generated and landed under `work` (minutes at 100k learners, so benches accept `--raw`)."""
    if raw is None:
        generate(work / "dataset", learners, seed)
        land_raw(work / "dataset", warehouse)
    else:
        shutil.copyfile(raw, warehouse)


def run_dbt(args: list[str], warehouse: Path, work_dir: Path) -> dict[str, float]:
    """Run dbt in a child process; wall time, CPU seconds and the child's peak RSS.

    CPU is the rusage of waited-for children before and after: it covers the dbt process and
    every process it started and reaped (a psutil sample just before exit would miss the tail).
    """
    dbt = DbtInvocation(warehouse=warehouse, work_dir=work_dir, as_of=AS_OF)
    work_dir.mkdir(parents=True, exist_ok=True)
    return run_measured(dbt.command(args), dbt.child_env(), work_dir / "dbt_stdout.log")


def run_measured(command: list[str], env: dict[str, str], log: Path) -> dict[str, float]:
    """A child process's wall time, CPU seconds and peak RSS (see `run_dbt`)."""
    started = time.perf_counter()
    cpu_before = _children_cpu_s()
    peak = 0
    with log.open("w") as out:
        proc = psutil.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        # poll the dbt process's own RSS (the generator ran in another child before)
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, proc.memory_info().rss)
            time.sleep(0.2)
    wall = time.perf_counter() - started
    cpu = _children_cpu_s() - cpu_before
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{log.read_text()[-4000:]}")
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mb": round(peak / 2**20, 1),
    }


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
