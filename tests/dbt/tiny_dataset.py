"""A hand-made dataset (contracts.md section 1 format) with one learner per identity rule.

Small enough to reason about row by row; every identity case of DESIGN.md appears once and
ground_truth/learners.csv says what the right answer is. Used until the generator's datasets
are wired into these tests.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

AS_OF = "2026-06-01T00:00:00Z"


def unix(day: int, hour: int = 12, minute: int = 0, second: float = 0.0) -> float:
    """Unix seconds of a moment in May 2026 (LearnWorlds style)."""
    moment = datetime(2026, 5, day, hour, minute, tzinfo=UTC)
    return moment.timestamp() + second


def iso(day: int, hour: int = 12, month: int = 5) -> str:
    """HubSpot-style ISO timestamp with milliseconds."""
    return datetime(2026, month, day, hour, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# learner id, email as the LMS has it, consent, true contact id, true company id, ambiguity
LEARNERS: list[tuple[str, str, bool, str, str, str]] = [
    ("u01", " Alice@ACME.com ", True, "101", "9001", ""),  # id match, case + whitespace
    ("u02", "BOB@beta.io", True, "102", "9002", ""),  # email match, company by domain
    ("u03", "carol+lms@gamma.org", False, "103", "", ""),  # plus tag kept
    ("u04", "carol@gamma.org", False, "", "", ""),  # plus tag not stripped
    ("u05", "dave@gmail.com", True, "", "", ""),  # gmail dots not collapsed
    ("u06", "d.ave@gmail.com", True, "104", "", ""),  # free mail -> no company
    ("u07", "erin.personal@yahoo.com", True, "105", "9005", ""),  # additional email
    ("u08", "frank6@epsilon.com", True, "", "", "id_email_disagree"),
    ("u09", "gina@zeta.com", True, "", "", "several_contacts"),
    ("u10", "hank@eta.com", True, "", "", "several_learners"),
    ("u11", "HANK@eta.com ", True, "", "", "several_learners"),
    (
        "u12",
        "\uff49\uff56\uff41\uff4e@\uff54\uff48\uff45\uff54\uff41.com",
        True,
        "111",
        "",
        "",
    ),  # NFKC fullwidth
    ("u13", "jill@acme.com", True, "112", "9003", ""),  # association beats domain
    ("u14", "kim@iota.com", True, "113", "", ""),  # merged contact resolved
    ("u15", "leo@kappa.com", True, "", "", ""),  # archived contact ignored
    ("u16", "mia@lambda.com", False, "116", "", ""),  # id beats additional email
]

CONTACTS: list[dict[str, Any]] = [
    {"id": "101", "email": "alice@acme.com", "lms_user_id": "u01", "lifecyclestage": "subscriber"},
    {"id": "102", "email": "bob@beta.io", "lifecyclestage": "customer"},
    {"id": "103", "email": "carol+lms@gamma.org"},
    {"id": "104", "email": "d.ave@gmail.com", "lifecyclestage": "lead"},
    {
        "id": "105",
        "email": "erin@delta.com",
        "hs_additional_emails": "e@delta.com;erin.personal@yahoo.com",
    },
    {"id": "106", "email": "frank@epsilon.com", "lms_user_id": "u08"},
    {"id": "107", "email": "frank6@epsilon.com"},
    {"id": "108", "email": "gina@zeta.com"},
    {"id": "109", "email": "Gina@zeta.com"},
    {"id": "110", "email": "hank@eta.com"},
    {"id": "111", "email": "ivan@theta.com"},
    {"id": "112", "email": "jill@acme.com"},
    {"id": "113", "email": "kim@iota.com", "hs_merged_object_ids": "114"},
    {"id": "114", "email": "kim@iota.com"},  # stale pre-merge copy still in raw
    {"id": "115", "email": "leo@kappa.com", "archived": True},
    {"id": "116", "email": "mia.other@lambda.com", "lms_user_id": "u16"},
    {"id": "117", "email": "mia.work@lambda.com", "hs_additional_emails": "mia@lambda.com"},
]

COMPANIES = [
    ("9001", "Acme", "acme.com"),
    ("9002", "Beta", "www.Beta.io"),
    ("9003", "Acme Holdings", "acme-holdings.com"),
    ("9004", "Gmail (typo company)", "gmail.com"),
    ("9005", "Delta", "delta.com"),
]

COURSES = [
    ("security-certification", "Certified Security Administrator", ["certification"]),
    ("analytics-certification", "Certified Analytics Professional", ["certification"]),
    ("automation-demo", "Automation Product Demo", ["product-demo"]),
    ("roi-webinar", "Measuring ROI Webinar", ["webinar"]),
    ("getting-started", "Getting Started", []),
]


def _owner() -> dict[str, Any]:
    return {
        "id": "501",
        "email": "rep@example.com",
        "firstName": "Rae",
        "lastName": "Rep",
        "userId": 77,
        "type": "PERSON",
        "archived": False,
    }


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _hubspot_record(record_id: str, properties: dict[str, Any], archived: bool) -> dict[str, Any]:
    return {
        "id": record_id,
        "properties": properties,
        "createdAt": iso(1, month=1),
        "updatedAt": iso(1, month=5),
        "archived": archived,
    }


def _lms_activity() -> dict[str, list[dict[str, Any]]]:
    enrollments = [
        {
            "user_id": "u01",
            "course_id": "security-certification",
            "created": unix(2),
            "expires": None,
        },
        {
            "user_id": "u01",
            "course_id": "analytics-certification",
            "created": unix(3),
            "expires": None,
        },
        {
            "user_id": "u02",
            "course_id": "automation-demo",
            "created": unix(4),
            "expires": None,
        },
        {"user_id": "u07", "course_id": "roi-webinar", "created": unix(5), "expires": None},
        {
            "user_id": "u13",
            "course_id": "security-certification",
            "created": unix(6),
            "expires": None,
        },
    ]
    progress = [
        {
            "user_id": "u01",
            "course_id": "security-certification",
            "status": "completed",
            "progress_rate": 100,
            "average_score_rate": 91,
            "time_on_course": 3600,
            "total_units": 10,
            "completed_units": 10,
            "completed_at": unix(10, second=0.25),
        },
        {
            "user_id": "u02",
            "course_id": "automation-demo",
            "status": "completed",
            "progress_rate": 100,
            "average_score_rate": 80,
            "time_on_course": 1800,
            "total_units": 5,
            "completed_units": 5,
            "completed_at": unix(12),
        },
        {
            "user_id": "u01",
            "course_id": "analytics-certification",
            "status": "in_progress",
            "progress_rate": 40,
            "average_score_rate": None,
            "time_on_course": 600,
            "total_units": 10,
            "completed_units": 4,
            "completed_at": None,
        },
    ]
    certificates = [
        {
            "id": "c0000000000000000000001",
            "title": "Security Certified",
            "issued": unix(11),
            "type": "course",
            "status": "valid",
            "score": 91,
            "user": {"id": "u01", "email": "alice@acme.com"},
            "course_id": "security-certification",
        }
    ]
    grades = [
        {
            "id": "g1",
            "course_id": "analytics-certification",
            "user_id": "u01",
            "email": "alice@acme.com",
            "grade": 85,
            "created": unix(14),
            "modified": unix(14),
            "submittedTimestamp": unix(14),
            "learningUnit": {"id": "lu1", "type": "assessment"},
        },
        {
            "id": "g2",
            "course_id": "analytics-certification",
            "user_id": "u13",
            "email": "jill@acme.com",
            "grade": 40,
            "created": unix(15),
            "modified": unix(15),
            "submittedTimestamp": unix(15),
            "learningUnit": {"id": "lu1", "type": "assessment"},
        },
    ]
    payments = [
        {
            "id": "p1",
            "type": "course",
            "price": 199.0,
            "discount": 0,
            "refund_at": None,
            "user_id": "u07",
            "paid_at": unix(20),
            "created": unix(20),
            "product": {
                "id": "automation-demo",
                "type": "course",
                "name": "Automation Product Demo",
            },
        }
    ]
    return {
        "enrollments": enrollments,
        "progress": progress,
        "certificates": certificates,
        "grades": grades,
        "payments": payments,
    }


def _webhooks() -> list[dict[str, Any]]:
    course = {"id": "security-certification", "title": "Certified Security Administrator"}
    user = {"id": "u01", "email": "alice@acme.com"}
    return [
        # the same completion the API reports: must collapse into one event
        {
            "version": 2,
            "type": "courseCompleted",
            "trigger": "course_completed",
            "school_id": "s1",
            "data": {"completed_at": unix(10, second=0.25), "course": course, "user": user},
        },
        # only seen by webhook so far
        {
            "version": 2,
            "type": "courseCompleted",
            "trigger": "course_completed",
            "school_id": "s1",
            "data": {
                "completed_at": unix(25),
                "course": {"id": "roi-webinar", "title": "Measuring ROI Webinar"},
                "user": {"id": "u07", "email": "erin.personal@yahoo.com"},
            },
        },
    ]


def _history_rows() -> list[dict[str, Any]]:
    def row(email: str, user_id: str, course: str, name: str, kind: str, score: str, at: str):
        return {
            "learner_email": email,
            "lms_user_id": user_id,
            "course_id": course,
            "course_name": name,
            "event_type": kind,
            "score": score,
            "occurred_at": at,
            "lms": "learnworlds",
            "external_event_id": "",
        }

    done = datetime.fromtimestamp(unix(10), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [
        # the API completion again, known to the CSV only by email: collapses
        row(
            "ALICE@acme.com",
            "",
            "security-certification",
            "Certified Security Administrator",
            "completed",
            "91",
            done,
        ),
        row(
            "u12@old-lms.example",
            "",
            "roi-webinar",
            "Measuring ROI Webinar",
            "enrolled",
            "",
            "2026-01-15T09:00:00Z",
        ),
        row(
            "hank@eta.com",
            "u10",
            "roi-webinar",
            "Measuring ROI Webinar",
            "completed",
            "",
            "2026-02-01T09:00:00Z",
        ),
        row(
            "bad@example.com",
            "",
            "roi-webinar",
            "Measuring ROI Webinar",
            "completed",
            "",
            "not-a-date",
        ),
    ]


def _deals() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    deals = [
        _hubspot_record(
            "7001",
            {
                "dealname": "Acme expansion",
                "amount": "1000",
                "dealstage": "closedwon",
                "pipeline": "default",
                "closedate": iso(21),
                "createdate": iso(9),
                "hs_lastmodifieddate": iso(21),
                "hubspot_owner_id": "501",
            },
            False,
        ),
        _hubspot_record(
            "7002",
            {
                "dealname": "Beta pilot",
                "dealstage": "appointmentscheduled",
                "pipeline": "default",
                "createdate": iso(1),
                "hs_lastmodifieddate": iso(2),
                "hubspot_owner_id": "501",
            },
            False,
        ),
        _hubspot_record(
            "7003",
            {"dealname": "No learners", "amount": "50", "createdate": iso(1)},
            False,
        ),
    ]
    assoc = [
        {
            "from_type": "deals",
            "from_id": "7001",
            "to_type": "contacts",
            "to_id": "101",
            "type_id": 3,
        },
        {
            "from_type": "deals",
            "from_id": "7001",
            "to_type": "contacts",
            "to_id": "112",
            "type_id": 3,
        },
        {
            "from_type": "deals",
            "from_id": "7002",
            "to_type": "contacts",
            "to_id": "102",
            "type_id": 3,
        },
        {
            "from_type": "deals",
            "from_id": "7002",
            "to_type": "contacts",
            "to_id": "105",
            "type_id": 3,
        },
    ]
    for edge in assoc:
        edge["category"] = "HUBSPOT_DEFINED"
    return deals, assoc


def write_tiny_dataset(out: Path) -> Path:
    """Write the dataset under `out` and return it."""
    users = [
        {
            "id": uid,
            "email": email,
            "username": uid,
            "first_name": uid.upper(),
            "last_name": "Learner",
            "subscribed_for_marketing_emails": consent,
            "created": unix(1, second=idx),
            "last_login": unix(28),
            "is_suspended": False,
            "fields": {"company": None},
        }
        for idx, (uid, email, consent, *_rest) in enumerate(LEARNERS)
    ]
    _write_jsonl(out / "lms" / "users.jsonl", users)
    courses = [
        {
            "id": cid,
            "title": title,
            "access": "paid",
            "created": unix(1),
            "modified": unix(1),
            "final_price": 10,
            "categories": cats,
        }
        for cid, title, cats in COURSES
    ]
    _write_jsonl(out / "lms" / "courses.jsonl", courses)
    activity = _lms_activity()
    for name, rows in activity.items():
        _write_jsonl(out / "lms" / f"{name}.jsonl", rows)
    _write_jsonl(out / "lms" / "event_logs.jsonl", [])
    _write_jsonl(out / "lms" / "webhooks.jsonl", _webhooks())
    # A 404 recorded before the dataset's own complete read saw u01 again: not a deletion.
    _write_jsonl(
        out / "lms" / "user_not_found.jsonl", [{"user_id": "u01", "detected_at": unix(20)}]
    )

    contacts = []
    for contact in CONTACTS:
        props = {k: v for k, v in contact.items() if k not in ("id", "archived")}
        props.setdefault("hubspot_owner_id", "501")
        props.update(createdate=iso(1, month=1), lastmodifieddate=iso(1))
        contacts.append(_hubspot_record(contact["id"], props, contact.get("archived", False)))
    _write_jsonl(out / "hubspot" / "contacts.jsonl", contacts)
    companies = [
        _hubspot_record(cid, {"name": name, "domain": domain, "createdate": iso(1, month=1)}, False)
        for cid, name, domain in COMPANIES
    ]
    _write_jsonl(out / "hubspot" / "companies.jsonl", companies)
    deals, deal_assoc = _deals()
    _write_jsonl(out / "hubspot" / "deals.jsonl", deals)
    company_assoc = [
        {
            "from_type": "contacts",
            "from_id": "101",
            "to_type": "companies",
            "to_id": "9001",
            "type_id": 1,
        },
        {
            "from_type": "contacts",
            "from_id": "112",
            "to_type": "companies",
            "to_id": "9003",
            "type_id": 1,
        },
        {
            "from_type": "contacts",
            "from_id": "112",
            "to_type": "companies",
            "to_id": "9001",
            "type_id": 279,
        },
        {
            "from_type": "contacts",
            "from_id": "105",
            "to_type": "companies",
            "to_id": "9005",
            "type_id": 1,
        },
    ]
    for edge in company_assoc:
        edge["category"] = "HUBSPOT_DEFINED"
    _write_jsonl(out / "hubspot" / "associations.jsonl", company_assoc + deal_assoc)
    _write_jsonl(out / "hubspot" / "owners.jsonl", [_owner()])

    history = out / "history" / "lms_history.csv"
    history.parent.mkdir(parents=True, exist_ok=True)
    rows = _history_rows()
    with history.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    truth = out / "ground_truth" / "learners.csv"
    truth.parent.mkdir(parents=True, exist_ok=True)
    with truth.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "lms_user_id",
                "email",
                "true_contact_id",
                "true_company_id",
                "ambiguous",
                "ambiguity_reason",
            ]
        )
        for uid, email, _consent, contact, company, reason in LEARNERS:
            writer.writerow([uid, email, contact, company, "true" if reason else "false", reason])
    manifest = {"seed": 0, "learners": len(LEARNERS), "as_of": AS_OF, "counts": {}}
    (out / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return out
