"""LearnWorlds calls follow activity, and the landing stays exactly the school's records.

The backfill reads enrollments and progress only for learners on a course roster; an
incremental run makes only the per-learner reads the named kind of activity calls for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from extract import run_lms
from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess
from tests.extract.helpers import FAST_RATE, query, route_counts, settings_for

USER_ROUTE = "GET /admin/api/v2/users/{user_key}"
# raw_lms table -> (generator file, [(raw column, dotted path in the generated record)])
GROUND_TRUTH: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "users": (
        "lms/users.jsonl",
        [("id", "id"), ("email", "email"), ("created", "created"), ("last_login", "last_login")],
    ),
    "enrollments": (
        "lms/enrollments.jsonl",
        [("user_id", "user_id"), ("course_id", "course_id"), ("created", "created")],
    ),
    "user_progress": (
        "lms/progress.jsonl",
        [
            ("user_id", "user_id"),
            ("course_id", "course_id"),
            ("status", "status"),
            ("progress_rate", "progress_rate"),
            ("average_score_rate", "average_score_rate"),
            ("time_on_course", "time_on_course"),
            ("completed_at", "completed_at"),
        ],
    ),
    "certificates": (
        "lms/certificates.jsonl",
        [
            ("id", "id"),
            ("user__id", "user.id"),
            ("course_id", "course_id"),
            ("issued", "issued"),
            ("score", "score"),
        ],
    ),
    "grades": (
        "lms/grades.jsonl",
        [
            ("id", "id"),
            ("user_id", "user_id"),
            ("course_id", "course_id"),
            ("grade", "grade"),
            ("learning_unit__id", "learningUnit.id"),
        ],
    ),
    "payments": (
        "lms/payments.jsonl",
        [("id", "id"), ("user_id", "user_id"), ("price", "price"), ("created", "created")],
    ),
}


def _norm(value: Any) -> Any:
    # Whole-second times come as JSON integers and land as doubles; compare numbers as numbers.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return round(float(value), 6)


def _at(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for step in path.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    return value


def _generated(data: Path, file: str, paths: list[str]) -> set[tuple[Any, ...]]:
    lines = (data / file).read_bytes().splitlines()
    return {tuple(_norm(_at(orjson.loads(line), p)) for p in paths) for line in lines if line}


def _landed(settings: Settings, table: str, columns: list[str]) -> set[tuple[Any, ...]]:
    rows = query(settings, f"select {', '.join(columns)} from raw_lms.{table}")
    return {tuple(_norm(v) for v in row) for row in rows}


def _enrolled(data: Path) -> set[str]:
    return {str(row[0]) for row in _generated(data, "lms/enrollments.jsonl", ["user_id"])}


def test_backfill_lands_the_generated_records_with_calls_only_for_enrolled_learners(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    run_lms(settings, rate=FAST_RATE)

    data = small_sandbox.data_dir
    for table, (file, pairs) in GROUND_TRUTH.items():
        columns, paths = [c for c, _ in pairs], [p for _, p in pairs]
        assert _landed(settings, table, columns) == _generated(data, file, paths), table
    calls = route_counts(small_sandbox, "lms")
    enrolled = _enrolled(data)
    users = len(_generated(data, "lms/users.jsonl", ["id"]))
    assert 0 < len(enrolled) < users, "the dataset needs learners without enrollments"
    assert calls[f"{USER_ROUTE}/courses"] == len(enrolled)
    assert calls[f"{USER_ROUTE}/progress"] == len(enrolled)
    courses = len(_generated(data, "lms/courses.jsonl", ["id"]))
    # Certificates and grades come per course; one roster page per course says who is enrolled.
    assert calls["GET /admin/api/v2/courses/{course_id}/users"] == courses
    assert calls["GET /admin/api/v2/certificates"] >= courses


def _per_learner_calls(sb: SandboxProcess) -> dict[str, int]:
    calls = route_counts(sb, "lms")
    return {
        "courses": calls.get(f"{USER_ROUTE}/courses", 0),
        "progress": calls.get(f"{USER_ROUTE}/progress", 0),
        "certificates": calls.get("GET /admin/api/v2/certificates", 0),
        "grades": calls.get("GET /admin/api/v2/courses/{course_id}/grades", 0),
        "profile": calls.get(USER_ROUTE, 0),
    }


def test_increment_reads_what_each_kind_of_activity_changed(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    run_lms(settings, rate=FAST_RATE)
    report = small_sandbox.control_post("lms", "activity", {"learners": 8, "seed": 4})
    small_sandbox.control_post("lms", "calls/reset")

    run_lms(settings, rate=FAST_RATE)

    enrolling = {e["user_id"] for e in report["enrollments"]}
    completing = {c["user_id"] for c in report["completions"]}
    assert enrolling and completing, "the activity needs both kinds of step"
    certified = {
        str(row[0])
        for row in query(
            settings,
            "select user__id from raw_lms.certificates where id in ("
            + ",".join(f"'{c}'" for c in report["certificates"] or ["-"])
            + ")",
        )
    }
    assert len(certified) == len(report["certificates"])
    completed_courses = {c["course_id"] for c in report["completions"]}
    calls = _per_learner_calls(small_sandbox)
    assert calls["courses"] == len(enrolling)
    assert calls["progress"] == len(enrolling | completing)
    assert calls["certificates"] == len(certified)
    assert len(completed_courses) <= calls["grades"] <= len(completed_courses) + 2 * len(completing)
    assert calls["profile"] == 0
    # ...and what they read is exactly what the school now holds.
    state = small_sandbox.control_get("lms", "state")
    for table, key in (("enrollments", "enrollments"), ("user_progress", "progress")):
        assert query(settings, f"select count(*) from raw_lms.{table}")[0][0] == state[key]
    for grade_id in report["grades"]:
        assert query(settings, f"select count(*) from raw_lms.grades where id = '{grade_id}'") == [
            (1,)
        ]


def test_activity_the_feeds_carry_in_full_costs_no_per_learner_call(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    run_lms(settings, rate=FAST_RATE)
    # Subscriptions (webhook-borne) and a sign-up (the users feed): nothing per learner to read.
    report = small_sandbox.control_post(
        "lms",
        "activity",
        {"learners": 3, "events": 0, "subscription_events": 3, "new_users": 1, "seed": 6},
    )
    assert report["subscriptions"] and report["new_users"]
    small_sandbox.control_post("lms", "calls/reset")

    result = run_lms(settings, rate=FAST_RATE)

    assert set(_per_learner_calls(small_sandbox).values()) == {0}
    assert result.rows_by_table["users"] == 1
    assert result.rows_by_table["event_logs"] == len(report["event_logs"])
