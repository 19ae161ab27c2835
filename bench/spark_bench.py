"""The same full `dbt build` on DuckDB and on a local Spark session, from the same raw data
(issue 16). Spark's figure is the whole engine step of a run: raw tables to the Parquet lake,
the build, the marts back into the warehouse file. Results go to bench/results/spark.json.

    uv run --frozen --group spark python -m bench.spark_bench [--learners 100000] [--raw FILE]

Wall seconds are the comparable figure: Spark's JVM is a grandchild of this process, so its
CPU is not in the children's rusage that bench._dbt_common reports for DuckDB.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench._dbt_common import AS_OF, landed_warehouse, run_dbt
from bench._results import commit, machine, record
from bench.chaos import VOLATILE_MART_COLUMNS
from bench.spark.compare import compare
from flows.dbt_step import build_command

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "spark.json"


def spark_child(warehouse: Path, spark_dir: Path) -> None:
    """One Spark engine step, as a run does it (python -m bench.spark_bench --child ...)."""
    from flows.dbt_step import run_dbt_build
    from lmsbridge_core.settings import Settings

    settings = Settings(
        _env_file=None,
        warehouse_path=warehouse,
        engine="spark",
        spark_dir=spark_dir,
        as_of=datetime.fromisoformat(AS_OF),
    )
    summary = run_dbt_build(settings)
    print(f"spark: {summary.models_built} models, {summary.tests_passed} tests passed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--raw", type=Path, help="an already landed raw warehouse to copy")
    parser.add_argument("--keep", type=Path, help="work here and keep both builds (a new dir)")
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spark_child(*args.child)
        return

    with (
        contextlib.nullcontext(args.keep)
        if args.keep
        else tempfile.TemporaryDirectory(prefix="lmsbridge-spark-bench-")
    ) as tmp:
        work = Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        raw = work / "raw.duckdb"
        landed_warehouse(work, raw, args.learners, args.seed, args.raw)
        duck, spark = work / "duck" / "w.duckdb", work / "spark" / "w.duckdb"
        for path in (duck, spark):
            path.parent.mkdir()
            shutil.copyfile(raw, path)
        duckdb_run = run_dbt(build_command(), duck, duck.parent / "dbt")

        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "bench.spark_bench", "--child", str(spark), str(work / "sp")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        spark_wall = round(time.perf_counter() - started, 2)
        if proc.returncode != 0:
            raise SystemExit(f"spark build failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
        # the same check as tests/flows/test_spark_engine.py, at this size
        diffs = compare(duck, work / "sp" / "built", exclude=VOLATILE_MART_COLUMNS)

    result = {
        "commit": commit(),
        "machine": machine(),
        "learners": args.learners,
        "duckdb_build_wall_s": duckdb_run["wall_s"],
        "duckdb_build_cpu_s": duckdb_run["cpu_s"],
        "spark_step_wall_s": spark_wall,
        "spark_over_duckdb_wall": round(spark_wall / duckdb_run["wall_s"], 2),
        "spark_output": proc.stdout.strip().splitlines()[-1:],
        "marts_compared": len(diffs),
        "marts_differing": [d.relation for d in diffs if not d.same],
    }
    record(RESULTS, result)
    print(result)


if __name__ == "__main__":
    main()
