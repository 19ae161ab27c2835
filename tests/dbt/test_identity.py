"""Identity resolution against the dataset's ground truth (DESIGN.md identity rules)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.dbt.conftest import BuiltWarehouse


def _ground_truth(dataset: Path) -> list[dict[str, str]]:
    with (dataset / "ground_truth" / "learners.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def identity_scores(
    truth: list[dict[str, str]], predicted: dict[str, str | None]
) -> dict[str, float]:
    """Precision and recall of learner -> contact matches (unmatched counts as no prediction)."""
    made = {uid: cid for uid, cid in predicted.items() if cid}
    expected = {
        row["lms_user_id"]: row["true_contact_id"] for row in truth if row["true_contact_id"]
    }
    correct = sum(1 for uid, cid in made.items() if expected.get(uid) == cid)
    return {
        "precision": correct / len(made) if made else 1.0,
        "recall": correct / len(expected) if expected else 1.0,
        "matched": float(len(made)),
        "expected": float(len(expected)),
    }


@pytest.mark.parametrize("warehouse_fixture", ["built_warehouse", "generated_warehouse"])
def test_identity_precision_and_recall_meet_targets(warehouse_fixture: str, request):
    warehouse: BuiltWarehouse = request.getfixturevalue(warehouse_fixture)
    assert warehouse.build.returncode == 0, warehouse.build.output[-3000:]
    truth = _ground_truth(warehouse.dataset)
    predicted = dict(
        warehouse.query(
            "select lms_user_id, hubspot_contact_id from marts.dim_learners where lms_user_id is not null"
        )
    )
    assert set(predicted) >= {row["lms_user_id"] for row in truth}
    scores = identity_scores(truth, predicted)
    assert scores["precision"] >= 0.999, scores
    assert scores["recall"] >= 0.99, scores


@pytest.mark.parametrize("warehouse_fixture", ["built_warehouse", "generated_warehouse"])
def test_company_matches_ground_truth(warehouse_fixture: str, request):
    warehouse: BuiltWarehouse = request.getfixturevalue(warehouse_fixture)
    truth = {
        r["lms_user_id"]: r["true_company_id"] or None for r in _ground_truth(warehouse.dataset)
    }
    actual = dict(
        warehouse.query(
            "select lms_user_id, hubspot_company_id from marts.dim_learners where lms_user_id is not null"
        )
    )
    wrong = {
        uid: (actual.get(uid), company)
        for uid, company in truth.items()
        if actual.get(uid) != company
    }
    assert wrong == {}


@pytest.mark.parametrize("warehouse_fixture", ["built_warehouse", "generated_warehouse"])
def test_ambiguous_learners_are_reported_and_left_unmatched(warehouse_fixture: str, request):
    warehouse: BuiltWarehouse = request.getfixturevalue(warehouse_fixture)
    ambiguous = {
        r["lms_user_id"] for r in _ground_truth(warehouse.dataset) if r["ambiguous"] == "true"
    }
    assert ambiguous
    reported = dict(
        warehouse.query(
            "select lms_user_id, reason from marts.identity_conflicts where conflict_scope = 'contact'"
        )
    )
    assert ambiguous <= set(reported)
    matched = {
        row[0]
        for row in warehouse.query(
            "select lms_user_id from marts.dim_learners where hubspot_contact_id is not null"
        )
    }
    assert not ambiguous & matched


def test_fullwidth_email_matches_through_the_generated_nfkc_seed(built_warehouse: BuiltWarehouse):
    rows = built_warehouse.query(
        "select email_normalized, hubspot_contact_id, match_method "
        "from marts.dim_learners where lms_user_id = 'u12'"
    )
    assert rows == [("ivan@theta.com", "111", "email")]


def test_match_methods_agree_with_generator_ground_truth(generated_warehouse: BuiltWarehouse):
    truth = _ground_truth(generated_warehouse.dataset)
    actual = {
        row[0]: (row[1], row[2])
        for row in generated_warehouse.query(
            "select lms_user_id, match_method, company_match_method from marts.dim_learners "
            "where lms_user_id is not null"
        )
    }
    expected = {r["lms_user_id"]: (r["match_method"], r["company_match_method"]) for r in truth}
    disagreements = {
        uid: (actual.get(uid), want) for uid, want in expected.items() if actual.get(uid) != want
    }
    assert disagreements == {}
    # the generated mess exercises every rule
    assert {m for m, _ in expected.values()} == {"lms_user_id", "email", "additional_email", "none"}


def test_a_learner_on_a_merged_away_contact_matches_the_survivor(built_warehouse: BuiltWarehouse):
    # 114 was merged into 113 (a stale copy of 114 is still in raw): the merge map names the
    # survivor, and learner u14 matches 113, never the dead id.
    merges = built_warehouse.query(
        "select merged_contact_id, survivor_contact_id from intermediate.int_contact_merges"
    )
    assert merges == [("114", "113")]
    rows = built_warehouse.query(
        "select hubspot_contact_id from marts.dim_learners where lms_user_id = 'u14'"
    )
    assert rows == [("113",)]
