"""The generator's files: determinism, counts, formats, history CSV, CLI."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from sandbox.__main__ import app
from sandbox.generator import COURSES, MessRates, generate
from tests.sandbox.generator_support import AS_OF, csv_rows, jsonl

HISTORY_TYPES = {"enrolled", "completed", "assessment_passed", "certificate_issued"}
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", 150, 42, as_of=AS_OF)
    generate(tmp_path / "b", 150, 42, as_of=AS_OF)
    generate(tmp_path / "c", 150, 43, as_of=AS_OF)
    first, second, other = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len(first) == 20
    assert first == second
    assert first["lms/users.jsonl"] != other["lms/users.jsonl"]


def test_counts_match_manifest(dataset_dir: Path) -> None:
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    assert manifest["learners"] == 300 and manifest["seed"] == 7
    for name, count in manifest["counts"].items():
        lines = (dataset_dir / name).read_bytes().count(b"\n")
        header = 1 if name.endswith(".csv") else 0
        assert lines - header == count, name
    counts = manifest["counts"]
    assert counts["lms/users.jsonl"] == counts["ground_truth/learners.csv"] == 300
    assert counts["hubspot/owners.jsonl"] >= 3
    assert counts["lms/courses.jsonl"] == len(COURSES)
    for name in (
        "lms/enrollments.jsonl",
        "lms/progress.jsonl",
        "lms/grades.jsonl",
        "lms/payments.jsonl",
        "lms/certificates.jsonl",
        "lms/event_logs.jsonl",
        "hubspot/deals.jsonl",
    ):
        assert counts[name] > 0, name


def test_ten_learners(tmp_path: Path) -> None:
    manifest = generate(tmp_path / "ten", 10, 3, as_of=AS_OF)
    users = list(jsonl(tmp_path / "ten" / "lms" / "users.jsonl"))
    assert len(users) == manifest.counts["lms/users.jsonl"] == 10
    assert len({u["id"] for u in users}) == 10
    assert manifest.counts["hubspot/owners.jsonl"] >= 3
    assert manifest.counts["hubspot/companies.jsonl"] >= 1
    assert manifest.bad_csv_rows == 4  # one of each broken kind, even in a tiny dataset


def test_records_have_the_real_apis_shapes(dataset_dir: Path) -> None:
    users = list(jsonl(dataset_dir / "lms" / "users.jsonl"))
    assert all(re.fullmatch(r"[0-9a-f]{24}", u["id"]) for u in users)
    # ObjectIds start with their creation second, as LearnWorlds ids do.
    assert all(int(u["id"][:8], 16) == int(u["created"]) for u in users)
    assert {u["subscribed_for_marketing_emails"] for u in users} == {True, False}
    contacts = list(jsonl(dataset_dir / "hubspot" / "contacts.jsonl"))
    assert all(
        ISO_MS.match(c["createdAt"]) and ISO_MS.match(c["properties"]["createdate"])
        for c in contacts
    )
    assert all(
        c["properties"]["email"] == c["properties"]["email"].strip().lower() for c in contacts
    )
    progress = list(jsonl(dataset_dir / "lms" / "progress.jsonl"))
    assert {p["status"] for p in progress} == {"completed", "not_completed", "not_started"}
    assert all((p["completed_at"] is not None) == (p["status"] == "completed") for p in progress)
    certs = list(jsonl(dataset_dir / "lms" / "certificates.jsonl"))
    certifying = {c.id for c in COURSES if c.certifies}
    assert certs and all(
        c["course_id"] in certifying and (c["score"] is None or isinstance(c["score"], str))
        for c in certs
    )
    activities = Counter(e["activity"] for e in jsonl(dataset_dir / "lms" / "event_logs.jsonl"))
    assert set(activities) >= {
        "register",
        "login",
        "purchase",
        "manual_enrollment",
        "complete_course",
        "award_certificate",
    }
    completions = [
        e
        for e in jsonl(dataset_dir / "lms" / "event_logs.jsonl")
        if e["activity"] == "complete_course"
    ]
    assert all(e["additional_info"]["course_id"] for e in completions)


def test_lms_values_come_in_every_documented_shape(dataset_dir: Path) -> None:
    """The shapes the reference documents, so the pipeline meets them before production."""
    certs = list(jsonl(dataset_dir / "lms" / "certificates.jsonl"))
    scores = [c["score"] for c in certs]
    texts = [s for s in scores if isinstance(s, str)]
    # a string whenever present: a number as text, a decimal, LearnWorlds' "OK", or blank
    assert all(s is None or isinstance(s, str) for s in scores)
    assert "OK" in texts and "" in texts and None in scores
    assert any(re.fullmatch(r"\d+", s) for s in texts)
    assert any(re.fullmatch(r"\d+\.5", s) for s in texts)
    # the odd shapes stay a small share, so most certificates carry a numeric score
    assert sum(bool(re.fullmatch(r"\d+(\.\d+)?", s)) for s in texts) > 0.75 * len(scores)
    # unix seconds: floats with microseconds, and whole seconds as JSON integers
    times = [c["issued"] for c in certs]
    times += [g["modified"] for g in jsonl(dataset_dir / "lms" / "grades.jsonl")]
    assert any(isinstance(t, int) for t in times) and any(isinstance(t, float) for t in times)
    progress = list(jsonl(dataset_dir / "lms" / "progress.jsonl"))
    rates = [p["progress_rate"] for p in progress]
    assert any(isinstance(r, float) for r in rates) and any(isinstance(r, int) for r in rates)
    assert any(p["average_score_rate"] == 0 for p in progress)
    assert any(p["completed_at"] is None for p in progress)
    users = list(jsonl(dataset_dir / "lms" / "users.jsonl"))
    assert any(u["first_name"] == "" for u in users)
    assert any(u["last_login"] is None for u in users)


def test_deals_and_associations(dataset_dir: Path) -> None:
    deals = list(jsonl(dataset_dir / "hubspot" / "deals.jsonl"))
    stages = Counter(d["properties"]["dealstage"] for d in deals)
    assert stages["closedwon"] and stages["closedlost"]
    for deal in deals:
        props = deal["properties"]
        closed = props["dealstage"] in ("closedwon", "closedlost")
        assert ("closedate" in props) == closed
        if closed:
            assert props["closedate"] >= props["createdate"]
    assert any("amount" not in d["properties"] for d in deals)
    edges = Counter(
        (a["from_type"], a["to_type"], a["type_id"])
        for a in jsonl(dataset_dir / "hubspot" / "associations.jsonl")
    )
    assert set(edges) == {
        ("contacts", "companies", 1),
        ("contacts", "companies", 279),
        ("deals", "contacts", 3),
        ("deals", "companies", 5),
        ("deals", "companies", 341),
        ("calls", "contacts", 194),
        ("emails", "contacts", 198),
        ("meetings", "contacts", 200),
    }
    # Every primary association has its unlabeled twin, as HubSpot stores them.
    assert edges[("contacts", "companies", 1)] == edges[("contacts", "companies", 279)]
    assert edges[("deals", "companies", 5)] == edges[("deals", "companies", 341)] == len(deals)


def _bad_reason(row: dict[str, str]) -> str | None:
    if not row["learner_email"].strip():
        return "missing_email"
    if row["event_type"] not in HISTORY_TYPES:
        return "unknown_event_type"
    try:
        datetime.fromisoformat(row["occurred_at"].replace("Z", "+00:00"))
    except ValueError:
        return "unparseable_time"
    if row["score"]:
        try:
            if not 0 <= float(row["score"]) <= 100:
                return "bad_score"
        except ValueError:
            return "bad_score"
    return None


def test_history_csv_has_the_declared_bad_rows(dataset_dir: Path) -> None:
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    rows = csv_rows(dataset_dir / "history" / "lms_history.csv")
    reasons = Counter(r for r in map(_bad_reason, rows) if r)
    assert sum(reasons.values()) == manifest["bad_csv_rows"] >= 4
    assert dict(reasons) == manifest["bad_csv_reasons"]


def test_history_is_before_the_api_window_plus_an_overlap(dataset_dir: Path) -> None:
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    api_start = manifest["api_start"]
    good = [r for r in csv_rows(dataset_dir / "history" / "lms_history.csv") if not _bad_reason(r)]
    before = [r for r in good if r["occurred_at"] < api_start]
    assert len(before) > len(good) / 2
    enrollments = {
        (
            e["user_id"],
            e["course_id"],
            datetime.fromtimestamp(e["created"], tz=AS_OF.tzinfo).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        for e in jsonl(dataset_dir / "lms" / "enrollments.jsonl")
    }
    # Every enrollment the CSV repeats from the API window is the same event: learner, course, time.
    repeated = [r for r in good if r["event_type"] == "enrolled" and r["occurred_at"] >= api_start]
    assert repeated
    assert all(
        (r["lms_user_id"], r["course_id"], r["occurred_at"]) in enrollments for r in repeated
    )


def test_cli_generate_and_rates_option(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        app,
        [
            "generate",
            "--learners",
            "20",
            "--seed",
            "5",
            "--out",
            str(out),
            "--rates",
            "unicode=0.5",
            "--as-of",
            "2026-06-01T00:00:00Z",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["rates"]["unicode"] == 0.5 and manifest["as_of"] == "2026-06-01T00:00:00Z"


@pytest.mark.parametrize(
    "rates", ["unicode=2", "bogus=0.1", "unicode=0.6,no_contact=0.6", "{not json"]
)
def test_cli_rejects_bad_rates_without_traceback(tmp_path: Path, rates: str) -> None:
    result = CliRunner().invoke(
        app, ["generate", "--learners", "5", "--out", str(tmp_path / "x"), "--rates", rates]
    )
    assert result.exit_code == 2
    assert "--rates" in result.output
    assert not (tmp_path / "x").exists()


def test_rates_model_rejects_kinds_over_one() -> None:
    with pytest.raises(ValueError, match="sum to"):
        MessRates(no_contact=0.6, freemail_contact=0.6)


def test_refuses_to_overwrite_a_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    result = CliRunner().invoke(app, ["generate", "--learners", "5", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.output
    assert keep.read_text() == "mine"
    # An earlier dataset, on the other hand, is replaced.
    generate(tmp_path / "d", 5, 1, as_of=AS_OF)
    assert generate(tmp_path / "d", 7, 1, as_of=AS_OF).counts["lms/users.jsonl"] == 7


def test_activity_scale_multiplies_enrollments_and_default_is_unchanged(tmp_path: Path) -> None:
    default = generate(tmp_path / "default", 200, 9, as_of=AS_OF)
    explicit = generate(tmp_path / "one", 200, 9, as_of=AS_OF, activity_scale=1.0)
    busy = generate(tmp_path / "three", 200, 9, as_of=AS_OF, activity_scale=3)
    assert default.counts == explicit.counts
    assert _files(tmp_path / "default") == _files(tmp_path / "one")
    base, more = default.counts, busy.counts
    assert more["lms/users.jsonl"] == base["lms/users.jsonl"] == 200
    # Capped by the catalogue and deduplicated per learner, so less than 3x but well above 2x.
    enrolled = (
        more["lms/enrollments.jsonl"] + more["history/lms_history.csv"],
        base["lms/enrollments.jsonl"] + base["history/lms_history.csv"],
    )
    assert enrolled[0] > 2 * enrolled[1]
    assert more["lms/enrollments.jsonl"] > 2 * base["lms/enrollments.jsonl"]
    assert more["lms/event_logs.jsonl"] > base["lms/event_logs.jsonl"]
    per_learner = Counter(row["user_id"] for row in jsonl(tmp_path / "three/lms/enrollments.jsonl"))
    assert max(per_learner.values()) <= len(COURSES)


def test_activity_scale_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="activity_scale"):
        generate(tmp_path / "x", 5, 1, as_of=AS_OF, activity_scale=0)
    result = CliRunner().invoke(
        app, ["generate", "--learners", "5", "--out", str(tmp_path / "y"), "--activity-scale", "0"]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "y").exists()
