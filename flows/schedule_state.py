"""Pause flag and consecutive-failure count for the scheduled runs, kept in a small JSON file.

A file beside the warehouse rather than a warehouse table: it must be readable and writable
while a run holds the DuckDB write lock, and `lmsbridge resume` must work without Prefect.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from lmsbridge_core.settings import Settings

# After this many failed runs in a row the schedule stops hammering a broken integration.
MAX_CONSECUTIVE_FAILURES = 3


@dataclass
class ScheduleState:
    paused: bool = False
    reason: str | None = None
    paused_at: str | None = None
    consecutive_failures: int = 0
    last_failure: str | None = None


def state_path(settings: Settings) -> Path:
    return settings.warehouse_path.resolve().parent / "schedule_state.json"


def load_state(settings: Settings) -> ScheduleState:
    path = state_path(settings)
    if not path.exists():
        return ScheduleState()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ScheduleState(
            **{k: v for k, v in data.items() if k in ScheduleState.__dataclass_fields__}
        )
    except (ValueError, TypeError):
        # A corrupt file must not wedge the scheduler; start counting afresh.
        return ScheduleState()


def save_state(settings: Settings, state: ScheduleState) -> None:
    path = state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
    os.replace(tmp, path)


def record_success(settings: Settings) -> ScheduleState:
    state = load_state(settings)
    if state.consecutive_failures:
        state.consecutive_failures = 0
        save_state(settings, state)
    return state


def record_failure(settings: Settings, message: str, *, auth_failure: bool) -> ScheduleState:
    """Count the failure; pause on an auth failure or too many failures in a row."""
    state = load_state(settings)
    state.consecutive_failures += 1
    state.last_failure = message
    if not state.paused and (
        auth_failure or state.consecutive_failures >= MAX_CONSECUTIVE_FAILURES
    ):
        state.paused = True
        state.paused_at = datetime.now(UTC).isoformat()
        state.reason = (
            "authentication failed: fix the credentials, then run `lmsbridge resume`"
            if auth_failure
            else f"{state.consecutive_failures} consecutive failed runs: "
            "fix the cause, then run `lmsbridge resume`"
        )
    save_state(settings, state)
    return state


def resume(settings: Settings) -> ScheduleState:
    state = ScheduleState()
    save_state(settings, state)
    return state
