"""Benchmark the full `dbt build` (models, data tests, unit tests) at a given size.

    uv run --frozen python -m bench.dbt_bench [--learners 100000] [--seed 1]
        [--activity-scale 1.0] [--keep DIR]

Generates a dataset, lands it as raw tables, then times `dbt build` in a child process and
records its peak RSS. Target (brief): 1M learners / ~10M events must finish on 2 cores.
`--activity-scale` multiplies enrollments (and so events) per learner, to reach ~10M events.
Results go to stdout and bench/results/dbt.json (one entry per learner count and scale).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bench import _results as results
from bench._dbt_common import generate, land_raw, run_dbt

RESULTS = Path(__file__).resolve().parent / "results" / "dbt.json"


def measure(
    learners: int, seed: int, keep: Path | None, activity_scale: float = 1.0
) -> dict[str, object]:
    work = keep or Path(tempfile.mkdtemp(prefix="dbt-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        generate_s = generate(work / "dataset", learners, seed, activity_scale)
        warehouse = work / "lmsbridge.duckdb"
        warehouse.unlink(missing_ok=True)
        land_s, raw_rows = land_raw(work / "dataset", warehouse)
        build = run_dbt(["build"], warehouse, work)
        with duckdb.connect(str(warehouse), read_only=True) as con:
            events = con.execute("select count(*) from marts.fct_learning_events").fetchone()[0]
            attribution = con.execute("select count(*) from marts.fct_deal_attribution").fetchone()[
                0
            ]
        size_mb = warehouse.stat().st_size / 2**20
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "learners": learners,
        "seed": seed,
        "activity_scale": activity_scale,
        "raw_rows": raw_rows,
        "learning_events": events,
        "attribution_rows": attribution,
        "generate_s": round(generate_s, 2),
        "land_raw_s": round(land_s, 2),
        "dbt_build_s": build["wall_s"],
        "dbt_peak_rss_mb": build["peak_rss_mb"],
        "warehouse_mb": round(size_mb, 1),
        "commit": results.commit(),
        "machine": results.machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def record(result: dict[str, object]) -> None:
    key = (result["learners"], result["activity_scale"])
    results.record(
        RESULTS, result, lambda r: (r.get("learners"), r.get("activity_scale", 1.0)) == key
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--activity-scale", type=float, default=1.0, help="enrollments per learner multiplier"
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep dataset and warehouse here")
    args = parser.parse_args()
    result = measure(args.learners, args.seed, args.keep, args.activity_scale)
    record(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
