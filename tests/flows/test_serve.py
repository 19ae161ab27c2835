"""Deployments served by `lmsbridge serve`: the cron schedules and the pause flag."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.schedule_state import record_failure
from flows.serve import build_deployments
from lmsbridge_core.settings import Settings


def test_sync_runs_on_the_configured_cron_and_resync_on_demand(tmp_path: Path) -> None:
    settings = Settings(warehouse_path=tmp_path / "lmsbridge.duckdb", schedule_cron="*/5 * * * *")
    sync, resync = build_deployments(settings)
    assert (sync.name, resync.name) == ("lmsbridge-sync", "lmsbridge-full-resync")
    assert [s.schedule.cron for s in sync.schedules] == ["*/5 * * * *"]
    assert not resync.schedules
    # Scheduled runs skip rather than queue behind a slow run.
    assert sync.parameters == {"wait_if_running": False}
    assert not sync.paused


def test_a_paused_schedule_is_served_paused(tmp_path: Path) -> None:
    settings = Settings(warehouse_path=tmp_path / "lmsbridge.duckdb")
    record_failure(settings, "HTTP 401", auth_failure=True)
    sync, _ = build_deployments(settings)
    assert sync.paused


def test_verify_is_served_on_its_own_cron_only_when_set(tmp_path: Path) -> None:
    path = tmp_path / "lmsbridge.duckdb"
    assert len(build_deployments(Settings(warehouse_path=path))) == 2  # default: off
    assert Settings(warehouse_path=path, verify_cron=" ").verify_cron is None
    names = [
        d.name for d in build_deployments(Settings(warehouse_path=path, verify_cron="0 6 * * *"))
    ]
    assert names == ["lmsbridge-sync", "lmsbridge-full-resync", "lmsbridge-verify"]
    verify = build_deployments(Settings(warehouse_path=path, verify_cron="0 6 * * *"))[2]
    assert [s.schedule.cron for s in verify.schedules] == ["0 6 * * *"]
    # It waits for a sync in progress (one warehouse writer) rather than skipping.
    assert verify.parameters == {"wait_if_running": True}
    record_failure(Settings(warehouse_path=path), "HTTP 401", auth_failure=True)
    assert build_deployments(Settings(warehouse_path=path, verify_cron="0 6 * * *"))[2].paused
    with pytest.raises(ValidationError, match="verify_cron"):
        Settings(warehouse_path=path, verify_cron="every day")
