"""The tiny dataset plus one record per unexpected value shape a source really sends.

Each bad value sits in a record that is otherwise valid, so the tests can check that the
record still reaches the marts (with the value null) and that the value is listed in
marts.data_quality_issues with its reason.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.dbt.tiny_dataset import unix, write_tiny_dataset

# (source_table, record_key, column_name, raw_value, reason, severity) expected per value
EXPECTED_ISSUES: set[tuple[str, str, str, str, str, str]] = {
    (
        "raw_lms.certificates",
        "cbad00000000000000000001",
        "score",
        "OK",
        "non-numeric score (LMS text)",
        "info",
    ),
    (
        "raw_lms.user_progress",
        "u13|security-certification",
        "progress_rate",
        "abc",
        "not a number",
        "warn",
    ),
    ("raw_lms.payments", "pbad2", "created", "not-a-date", "not a unix timestamp", "warn"),
    ("raw_lms.payments", "pbad2", "discount", "n/a", "not a number", "warn"),
    # milliseconds where seconds belong: a number, but no time the API could mean
    (
        "raw_lms.grades",
        "gbad1",
        "submitted_timestamp",
        "1779192000000.0",
        "timestamp out of range",
        "warn",
    ),
    ("raw_lms.users", "u03", "last_login", "yesterday", "not a unix timestamp", "warn"),
    (
        "raw_lms.webhook_events",
        None,  # delivery ids are hashes of the body; the test fills it in
        "data__certificate__score",
        "OK",
        "non-numeric score (LMS text)",
        "info",
    ),
}
# Blank strings are "no value": null in staging, never an issue.
BLANK_VALUES = {
    ("raw_lms.payments", "pbad1", "price"),
    ("raw_lms.certificates", "cbad00000000000000000002", "score"),
}


def _append(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("a", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _rewrite(path: Path, match: dict[str, Any], changes: dict[str, Any]) -> None:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    hits = [r for r in rows if all(r.get(k) == v for k, v in match.items())]
    assert len(hits) == 1, (path, match)
    hits[0].update(changes)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_bad_input_dataset(out: Path) -> Path:
    write_tiny_dataset(out)
    lms = out / "lms"
    _rewrite(lms / "users.jsonl", {"id": "u03"}, {"last_login": "yesterday"})
    user = {"id": "u02", "email": "bob@beta.io"}
    _append(
        lms / "certificates.jsonl",
        [
            {
                "id": "cbad00000000000000000001",
                "title": "Automation certificate",
                "issued": unix(13),
                "type": "completion",
                "status": "active",
                "score": "OK",
                "user": user,
                "course_id": "automation-demo",
            },
            {
                "id": "cbad00000000000000000002",
                "title": "Webinar certificate",
                "issued": unix(14),
                "type": "completion",
                "status": "active",
                "score": "",
                "user": user,
                "course_id": "roi-webinar",
            },
        ],
    )
    _append(
        lms / "progress.jsonl",
        [
            {
                "user_id": "u13",
                "course_id": "security-certification",
                "status": "completed",
                "progress_rate": "abc",
                "average_score_rate": 0,
                "time_on_course": 900,
                "total_units": 10,
                "completed_units": 10,
                "completed_at": unix(16),
            }
        ],
    )
    product = {"id": "roi-webinar", "type": "course", "name": "Measuring ROI Webinar"}
    payment = {"type": "one-off", "refund_at": None, "user_id": "u02", "product": product}
    _append(
        lms / "payments.jsonl",
        [
            {
                **payment,
                "id": "pbad1",
                "price": "",
                "discount": 0,
                "paid_at": unix(17),
                "created": unix(17),
            },
            # creation time unreadable: the purchase counts at its payment time
            {
                **payment,
                "id": "pbad2",
                "user_id": "u13",
                "price": 49,
                "discount": "n/a",
                "paid_at": unix(18),
                "created": "not-a-date",
            },
        ],
    )
    _append(
        lms / "grades.jsonl",
        [
            {
                "id": "gbad1",
                "course_id": "automation-demo",
                "user_id": "u02",
                "email": "bob@beta.io",
                "grade": 88,
                "created": unix(19),
                "modified": unix(19),
                "submittedTimestamp": unix(19) * 1000,
                "learningUnit": {"id": "lu2", "type": "assessment"},
            }
        ],
    )
    _append(
        lms / "webhooks.jsonl",
        [
            {
                "version": 2,
                "type": "awardedCertificate",
                "trigger": "certificate_awarded",
                "school_id": "s1",
                "data": {
                    "certificate": {
                        "id": "cbad00000000000000000003",
                        "course_id": "roi-webinar",
                        "issued": unix(26),
                        "score": "OK",
                        "type": "completion",
                        "status": "active",
                        "user": {"id": "u07", "email": "erin.personal@yahoo.com"},
                    },
                    "user": {"id": "u07", "email": "erin.personal@yahoo.com"},
                },
            }
        ],
    )
    return out
