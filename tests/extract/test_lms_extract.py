"""LearnWorlds extraction against the LMS emulator: backfill, minimal reruns, activity, scaling."""

from __future__ import annotations

from pathlib import Path

from extract import run_lms
from sandbox.runner import SandboxProcess
from tests.extract.helpers import (
    FAST_RATE,
    assert_landed_every_record,
    count,
    manifest_counts,
    route_counts,
    settings_for,
)

# raw_lms table -> the generator's file for the same records
TABLE_FILES = {
    "users": "lms/users.jsonl",
    "courses": "lms/courses.jsonl",
    "enrollments": "lms/enrollments.jsonl",
    "user_progress": "lms/progress.jsonl",
    "certificates": "lms/certificates.jsonl",
    "payments": "lms/payments.jsonl",
    "grades": "lms/grades.jsonl",
    "event_logs": "lms/event_logs.jsonl",
}
# raw_lms table -> the emulator's /_sandbox/state count key
STATE_KEYS = {"user_progress": "progress"}
FEEDS = {
    "POST /admin/api/oauth2/access_token",
    "GET /admin/api/v2/users",
    "GET /admin/api/v2/courses",
    "GET /admin/api/v2/payments",
    "GET /admin/api/v2/event-logs",
}


def test_backfill_lands_every_generated_record(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    result = run_lms(settings, rate=FAST_RATE)
    assert_landed_every_record(settings, small_sandbox, "raw_lms", TABLE_FILES)
    assert result.api_calls == small_sandbox.calls("lms")["total"]


def test_rerun_without_changes_reads_only_the_feeds_and_lands_nothing(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    run_lms(settings, rate=FAST_RATE)
    before = {t: count(settings, f"raw_lms.{t}") for t in TABLE_FILES}
    small_sandbox.control_post("lms", "calls/reset")

    result = run_lms(settings, rate=FAST_RATE)

    calls = route_counts(small_sandbox, "lms")
    assert set(calls) == FEEDS
    assert all(n == 1 for n in calls.values()), calls
    assert result.rows_by_table == {}
    assert {t: count(settings, f"raw_lms.{t}") for t in TABLE_FILES} == before


def test_new_activity_lands_exactly_that_activity(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    run_lms(settings, rate=FAST_RATE)
    report = small_sandbox.control_post(
        "lms", "activity", {"learners": 4, "new_users": 1, "seed": 3}
    )
    assert report["event_logs"], "the emulator generated no activity"

    result = run_lms(settings, rate=FAST_RATE)

    assert result.rows_by_table["event_logs"] == len(report["event_logs"])
    state = small_sandbox.control_get("lms", "state")
    for table in TABLE_FILES:
        assert count(settings, f"raw_lms.{table}") == state[STATE_KEYS.get(table, table)], table
    for payment_id in report["payments"]:
        assert count(settings, f"raw_lms.payments where id = '{payment_id}'") == 1


def test_incremental_calls_follow_activity_not_learner_count(
    small_sandbox: SandboxProcess, large_sandbox: SandboxProcess, tmp_path: Path
):
    calls = {}
    for name, sb in (("small", small_sandbox), ("large", large_sandbox)):
        settings = settings_for(sb, tmp_path / name)
        run_lms(settings, rate=FAST_RATE)
        sb.control_post("lms", "activity", {"learners": 3, "seed": 11})
        calls[name] = run_lms(settings, rate=FAST_RATE).api_calls
    learners_ratio = 10  # 30 vs 300 learners
    assert calls["large"] <= calls["small"] + 3, calls
    assert calls["large"] < 5 * learners_ratio, calls


def test_rate_limited_data_calls_are_retried(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    # The client runs unpaced into a 20-per-second server limit: 429s, retried until done.
    small_sandbox.control_post("lms", "chaos", {"rate_max": 20, "rate_interval_ms": 1000})
    result = run_lms(settings, rate=FAST_RATE)
    assert small_sandbox.calls("lms")["status_429"] > 0
    for table, file in TABLE_FILES.items():
        expected = manifest_counts(small_sandbox.data_dir)[file]
        assert count(settings, f"raw_lms.{table}") == expected, table
    assert result.api_calls == small_sandbox.calls("lms")["total"]


def test_client_pacing_stays_under_the_server_limit(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    small_sandbox.control_post("lms", "chaos", {"rate_max": 20, "rate_interval_ms": 1000})
    run_lms(settings, rate=(19, 1.0))
    # A second run right after the first starts with a fresh client but a full server window.
    small_sandbox.control_post("lms", "activity", {"learners": 2, "seed": 2})
    run_lms(settings, rate=(19, 1.0))
    assert small_sandbox.calls("lms")["status_429"] == 0


def test_full_rerun_fans_out_again(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    first = run_lms(settings, rate=FAST_RATE)
    again = run_lms(settings, full=True, rate=FAST_RATE)
    assert again.api_calls == first.api_calls
    assert (
        count(settings, "raw_lms.users")
        == manifest_counts(small_sandbox.data_dir)["lms/users.jsonl"]
    )
