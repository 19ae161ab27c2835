"""What the data-driven attribution models cost: the Python model int_attribution_channel_weights
(Markov removal effects and Shapley values in pure Python) alone, and the attribution chain
it sits in, at a given size.

    uv run --frozen python -m bench.attribution_bench [--learners 100000] [--seed 1]
        [--raw WAREHOUSE] [--keep DIR]

Generates and lands a dataset (or copies an already landed `--raw` warehouse), measures one
scan of the raw tables (bench/scan.py, the unit of every ratio), builds every seed and model
(`dbt build`, tests left out), then on that warehouse times `dbt run` of
int_attribution_channel_weights alone and of the attribution chain (touchpoints, resolved
models, paths, weights, fct_deal_attribution): CPU seconds of the dbt process and everything
it started, peak RSS, and dbt's own seconds per model (the rest is dbt's start-up). Results go to stdout and bench/results/attribution.json
(one entry per learner count and seed) with the commit and the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from bench import _results as results
from bench._dbt_common import landed_warehouse, run_dbt
from bench.scan import scan_cpu_s

RESULTS = Path(__file__).resolve().parent / "results" / "attribution.json"
WEIGHTS_MODEL = "int_attribution_channel_weights"
# dbt selects the union of these; a name the project lacks selects nothing (a warning)
CHAIN = (
    "int_deal_touchpoints",
    "int_attribution_models",
    "int_attribution_paths",
    WEIGHTS_MODEL,
    "fct_deal_attribution",
)


def model_seconds(work: Path) -> dict[str, float]:
    """dbt's execution time of each model in its last invocation, by model name."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    return {
        r["unique_id"].rsplit(".", 1)[-1]: round(float(r["execution_time"]), 2)
        for r in results
        if r["unique_id"].startswith("model.")
    }


def weights_summary(warehouse: Path) -> dict[str, Any]:
    """The size of what the Python model read and wrote."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        paths = con.execute(
            "select count(*), count(distinct (attribution_model, deal_id)) "
            "from intermediate.int_attribution_paths where kind in ('markov', 'shapley')"
        ).fetchone()
        weights = con.execute(
            "select count(*), count(distinct (attribution_model, path_key)), "
            "max(len(string_split(path_key, ' + '))) "
            f"from intermediate.{WEIGHTS_MODEL}"
        ).fetchone()
        methods = con.execute(
            f"select method, count(*) from intermediate.{WEIGHTS_MODEL} group by all order by 1"
        ).fetchall()
    return {
        "data_driven_touches": paths[0],
        "data_driven_deal_paths": paths[1],
        "weight_rows": weights[0],
        "path_keys": weights[1],
        "max_channels_in_a_path_key": weights[2],
        "rows_by_method": dict(methods),
    }


def measure(learners: int, seed: int, raw: Path | None, keep: Path | None) -> dict[str, Any]:
    work = keep or Path(tempfile.mkdtemp(prefix="attribution-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    warehouse = work / "lmsbridge.duckdb"
    warehouse.unlink(missing_ok=True)
    steps: dict[str, dict[str, Any]] = {}
    try:
        landed_warehouse(work, warehouse, learners, seed, raw)
        scan = scan_cpu_s(warehouse)
        # seeds and models only: the data tests are not what this measures
        steps["build"] = run_dbt(
            ["build", "--resource-type", "seed", "--resource-type", "model"], warehouse, work
        )
        for name, selection in (("weights_model", [WEIGHTS_MODEL]), ("chain", list(CHAIN))):
            measured = run_dbt(["run", "-s", *selection], warehouse, work)
            steps[name] = {
                **measured,
                "x_scan": round(measured["cpu_s"] / scan, 2),
                "model_s": model_seconds(work),
            }
        summary = weights_summary(warehouse)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "bench": "attribution",
        "learners": learners,
        "seed": seed,
        "scan_cpu_s": round(scan, 3),
        **summary,
        **steps,
        "commit": results.commit(),
        "machine": results.machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def record(result: dict[str, Any]) -> None:
    key = (result["learners"], result["seed"])
    results.record(RESULTS, result, lambda r: (r.get("learners"), r.get("seed")) == key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--raw", type=Path, default=None, help="copy this landed warehouse")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work directory here")
    args = parser.parse_args()
    result = measure(args.learners, args.seed, args.raw, args.keep)
    record(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
