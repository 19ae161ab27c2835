"""The `lmsbridge-sync` slot: runs queue behind each other, or skip when told not to wait."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

from flows.errors import RunSkipped
from flows.sync_flow import (
    CONCURRENCY_LIMIT,
    _release_stale_slots,
    _run_lock,
    ensure_concurrency_limit,
    one_run_at_a_time,
)
from lmsbridge_core.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(warehouse_path=tmp_path / "wh" / "lmsbridge.duckdb")


@flow(name="lmsbridge-slot-probe")
def _hold_slot(settings: Settings, hold_s: float, wait: bool) -> tuple[float, float]:
    with one_run_at_a_time(settings, wait):
        start = time.monotonic()
        time.sleep(hold_s)
        return start, time.monotonic()


def test_concurrent_runs_never_overlap(prefect_server: None, settings: Settings) -> None:
    spans: list[tuple[float, float]] = []
    threads = [
        threading.Thread(target=lambda: spans.append(_hold_slot(settings, 1.0, True)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(spans) == 3
    ordered = sorted(spans)
    for (_, end), (next_start, _) in itertools.pairwise(ordered):
        assert next_start >= end


def test_second_run_skips_when_not_waiting(prefect_server: None, settings: Settings) -> None:
    holding = threading.Event()
    release = threading.Event()

    @flow(name="lmsbridge-slot-holder")
    def holder() -> None:
        with one_run_at_a_time(settings, True):
            holding.set()
            release.wait(60)

    t = threading.Thread(target=holder)
    t.start()
    try:
        assert holding.wait(60)
        with pytest.raises(RunSkipped, match="another lmsbridge run is in progress"):
            _hold_slot(settings, 0.0, False)
    finally:
        release.set()
        t.join(timeout=60)
    # Once released, a non-waiting run gets the slot.
    start, end = _hold_slot(settings, 0.0, False)
    assert end >= start


def test_slot_left_by_a_killed_run_is_released(prefect_server: None, settings: Settings) -> None:
    ensure_concurrency_limit()
    with get_client(sync_client=True) as client:
        # What a run killed under a temporary Prefect server leaves behind.
        client.update_global_concurrency_limit(
            CONCURRENCY_LIMIT, GlobalConcurrencyLimitUpdate(active_slots=1)
        )

    @flow(name="lmsbridge-stale-slot")
    def release_then_probe() -> None:
        _release_stale_slots()

    release_then_probe()
    start, end = _hold_slot(settings, 0.0, False)
    assert end >= start


def test_run_lock_excludes_other_holders(settings: Settings) -> None:
    with _run_lock(settings, wait=True):
        errors: list[BaseException] = []

        def contender() -> None:
            try:
                with _run_lock(settings, wait=False):
                    pass
            except RunSkipped as exc:
                errors.append(exc)

        t = threading.Thread(target=contender)
        t.start()
        t.join(timeout=30)
        assert len(errors) == 1
    # Released on exit: the next holder gets it without waiting.
    with _run_lock(settings, wait=False):
        pass
