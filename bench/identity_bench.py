"""Identity resolution quality at scale: precision and recall against the ground truth.

    uv run --frozen python -m bench.identity_bench [--learners 100000] [--seed 1]

Builds only what identity needs (`dbt build -s +dim_learners +identity_conflicts`) on a
generated dataset and scores dim_learners against ground_truth/learners.csv.
Targets: precision >= 99.9 %, recall >= 99 %. Results: bench/results/identity.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bench._dbt_common import generate, land_raw, run_dbt

RESULTS = Path(__file__).resolve().parent / "results" / "identity.json"


def score(warehouse: Path, truth_csv: Path) -> dict[str, object]:
    with truth_csv.open(encoding="utf-8", newline="") as handle:
        truth = list(csv.DictReader(handle))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select lms_user_id, hubspot_contact_id, hubspot_company_id from marts.dim_learners "
            "where lms_user_id is not null"
        ).fetchall()
        conflicts = dict(
            con.execute(
                "select reason, count(*) from marts.identity_conflicts group by reason"
            ).fetchall()
        )
    contact = {r[0]: r[1] for r in rows}
    company = {r[0]: r[2] for r in rows}
    made = {u: c for u, c in contact.items() if c}
    expected = {r["lms_user_id"]: r["true_contact_id"] for r in truth if r["true_contact_id"]}
    correct = sum(1 for u, c in made.items() if expected.get(u) == c)
    companies_right = sum(
        1 for r in truth if (company.get(r["lms_user_id"]) or "") == r["true_company_id"]
    )
    ambiguous = [r["lms_user_id"] for r in truth if r["ambiguous"] == "true"]
    misses = Counter(
        r.get("mess", "?")
        for r in truth
        if (contact.get(r["lms_user_id"]) or "") != r["true_contact_id"]
    )
    return {
        "precision": round(correct / len(made), 6) if made else 1.0,
        "recall": round(correct / len(expected), 6) if expected else 1.0,
        "matched": len(made),
        "expected_matches": len(expected),
        "company_accuracy": round(companies_right / len(truth), 6),
        "ambiguous_in_truth": len(ambiguous),
        "conflicts_by_reason": conflicts,
        "wrong_by_mess_kind": dict(misses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="identity-bench-"))
    try:
        generate(work / "dataset", args.learners, args.seed)
        warehouse = work / "lmsbridge.duckdb"
        land_raw(work / "dataset", warehouse)
        # cautious: skip tests that also touch models outside the identity subgraph
        selection = [
            "-s",
            "+dim_learners",
            "+identity_conflicts",
            "--indirect-selection",
            "cautious",
        ]
        build = run_dbt(["build", *selection], warehouse, work)
        result = {
            "learners": args.learners,
            "seed": args.seed,
            **score(warehouse, work / "dataset" / "ground_truth" / "learners.csv"),
            "identity_build_s": build["wall_s"],
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["within_targets"] = result["precision"] >= 0.999 and result["recall"] >= 0.99
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
