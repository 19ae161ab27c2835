"""Learners deleted in LearnWorlds: no delete event exists, so complete reads of /v2/users
(recorded in user_sweeps, each row stamped seen_at) and per-user 404s (user_not_found) are
what the warehouse keeps for dbt to infer deletions from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from extract import run_lms
from extract.landing import LandingWriter
from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess
from tests.extract.helpers import FAST_RATE, count, query, route_counts, settings_for


def _seen(settings: Settings) -> dict[str, float]:
    return {str(uid): at for uid, at in query(settings, "select id, seen_at from raw_lms.users")}


def _sweeps(settings: Settings) -> list[tuple[Any, ...]]:
    return query(
        settings,
        "select started_at, finished_at, users_seen from raw_lms.user_sweeps order by started_at",
    )


def test_sweeps_stamp_users_and_a_deleted_user_is_not_relanded(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    # A sweep on every run: the backfill's read is a sweep too.
    settings = settings_for(small_sandbox, tmp_path, lms_profile_sweep_hours=1e-6)
    run_lms(settings, rate=FAST_RATE)
    seen = _seen(settings)
    [(started, finished, users_seen)] = _sweeps(settings)
    assert users_seen == len(seen) > 0
    assert all(at is not None and started <= at <= finished for at in seen.values())

    gone = sorted(seen)[0]
    small_sandbox.control_post("lms", f"users/{gone}/delete")
    run_lms(settings, rate=FAST_RATE)

    after = _seen(settings)
    sweeps = _sweeps(settings)
    assert len(sweeps) == 2
    latest_start, _, latest_seen = sweeps[-1]
    assert latest_seen == len(seen) - 1
    # The deleted learner keeps its row, last seen before the latest complete read began.
    assert after[gone] == seen[gone] and after[gone] < latest_start
    assert all(at >= latest_start for uid, at in after.items() if uid != gone)


def test_refresh_of_a_deleted_user_lands_user_not_found_without_extra_calls(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    run_lms(settings, rate=FAST_RATE)
    gone = sorted(_seen(settings))[1]
    small_sandbox.control_post("lms", f"users/{gone}/delete")
    # The userUpdated of an edit made just before the delete, as the receiver lands it.
    event = {"type": "userUpdated", "trigger": "user_updated", "data": {"user": {"id": gone}}}
    LandingWriter(settings.landing_dir).append(event, orjson.dumps(event))
    small_sandbox.control_post("lms", "calls/reset")
    last_seen = query(settings, "select max(seen_at) from raw_lms.users")[0][0]

    result = run_lms(settings, rate=FAST_RATE)

    [(user_id, detected_at)] = query(
        settings, "select user_id, detected_at from raw_lms.user_not_found"
    )
    assert user_id == gone and detected_at > last_seen
    assert result.rows_by_table["user_not_found"] == 1
    assert "users" not in result.rows_by_table
    calls = route_counts(small_sandbox, "lms")
    # One profile read of the learner, 404: a profile change calls for no enrollment read.
    assert calls["GET /admin/api/v2/users/{user_key}"] == 1
    assert "GET /admin/api/v2/users/{user_key}/courses" not in calls
    assert count(settings, "raw_lms.user_sweeps") == 1
    assert last_seen == query(settings, "select max(seen_at) from raw_lms.users")[0][0]
