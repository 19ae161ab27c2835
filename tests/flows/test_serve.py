"""Deployments served by `lmsbridge serve`: the cron schedule and the pause flag."""

from __future__ import annotations

from pathlib import Path

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
