"""One run at a time (the Prefect slot and the lock beside the warehouse), and runs killed
mid-way recorded as crashed in the run ledger and in Prefect."""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.exceptions import ObjectNotFound
from typer.testing import CliRunner

from flows import ledger
from flows.pipeline import run_lock
from flows.sync_flow import (
    CONCURRENCY_LIMIT,
    _release_stale_slots,
    ensure_concurrency_limit,
    mark_crashed_flow_runs,
    one_run_at_a_time,
)
from lmsbridge_cli.cli import app
from lmsbridge_core.errors import RunSkipped
from lmsbridge_core.settings import Settings, load_settings
from sandbox.runner import SandboxProcess


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(warehouse_path=tmp_path / "wh" / "lmsbridge.duckdb")


@flow(name="lmsbridge-slot-probe")
def _hold_slot(settings: Settings, hold_s: float, wait: bool) -> tuple[float, float]:
    with one_run_at_a_time(settings, wait):
        start = time.monotonic()
        time.sleep(hold_s)
        return start, time.monotonic()


def _slots_in_use_while_holding(settings: Settings) -> int:
    """Take the slot without waiting and report how many slots Prefect counts meanwhile."""
    with one_run_at_a_time(settings, False), get_client(sync_client=True) as client:
        return int(client.read_global_concurrency_limit_by_name(CONCURRENCY_LIMIT).active_slots)


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


def _create_limit_together(runs: int) -> list[BaseException]:
    """`runs` threads call ensure_concurrency_limit at the same instant; their errors."""
    start = threading.Barrier(runs)
    errors: list[BaseException] = []

    def create() -> None:
        start.wait()
        try:
            ensure_concurrency_limit()
        except BaseException as error:  # the test reports any failure
            errors.append(error)

    threads = [threading.Thread(target=create) for _ in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_runs_creating_the_limit_together_all_succeed(prefect_server: None) -> None:
    """Runs started together each find the limit missing and race to create it; the losers'
    409 must not fail them (it did: one of three runs failed in CI)."""
    for _ in range(3):
        with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
            client.delete_global_concurrency_limit_by_name(CONCURRENCY_LIMIT)
        assert _create_limit_together(6) == []
        with get_client(sync_client=True) as client:
            assert client.read_global_concurrency_limit_by_name(CONCURRENCY_LIMIT).limit == 1


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
    # Once released, a non-waiting run gets the slot, and holds the only one taken.
    assert _slots_in_use_while_holding(settings) == 1


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
    # The stale slot is gone: this run's is the only one counted.
    assert _slots_in_use_while_holding(settings) == 1


def test_run_lock_excludes_other_holders(settings: Settings) -> None:
    with run_lock(settings, wait=True):
        errors: list[BaseException] = []

        def contender() -> None:
            try:
                with run_lock(settings, wait=False):
                    pass
            except RunSkipped as exc:
                errors.append(exc)

        t = threading.Thread(target=contender)
        t.start()
        t.join(timeout=30)
        assert len(errors) == 1
    # Released on exit: the next holder gets it without waiting.
    with run_lock(settings, wait=False):
        pass


def test_direct_run_skips_when_another_holds_the_lock(cli_env: SandboxProcess) -> None:
    settings = load_settings()
    with run_lock(settings, wait=True):
        result = CliRunner().invoke(app, ["run", "--skip-if-running"])
    assert result.exit_code == 0, result.output
    assert "skipped" in result.output
    # Nothing ran, so nothing reached HubSpot.
    assert cli_env.calls("hubspot")["total"] == 0


def _killed_run(settings: Settings, flow_run_id: str | None = None) -> None:
    """A process that records a run and is SIGKILLed in the middle of it."""
    code = (
        "import os, signal, sys\n"
        "from flows import ledger\n"
        "from flows.pipeline import run_lock\n"
        "from lmsbridge_core.settings import Settings\n"
        "settings = Settings(warehouse_path=sys.argv[1])\n"
        "with run_lock(settings, wait=True), ledger.recorded(settings, 'lmsbridge-sync', "
        "'direct', sys.argv[2] or None):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    args = [sys.executable, "-c", code, str(settings.warehouse_path), flow_run_id or ""]
    assert subprocess.run(args, check=False, timeout=120).returncode == -9


def test_a_killed_run_is_marked_crashed_and_status_shows_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _killed_run(settings)
    assert [r.status for r in ledger.recent(settings)] == [ledger.RUNNING]
    # The kernel released the lock with the process: the next run does not wait.
    with run_lock(settings, wait=False):
        pass
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(settings.warehouse_path))
    monkeypatch.chdir(settings.warehouse_path.parent.parent)
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "crashed" in result.output
    assert [r.status for r in ledger.recent(settings)] == [ledger.CRASHED]


def test_a_live_run_is_not_marked_crashed(settings: Settings) -> None:
    with ledger.recorded(settings, "lmsbridge-sync", "direct"):
        assert ledger.mark_crashed(settings) == []
        assert [r.status for r in ledger.recent(settings)] == [ledger.RUNNING]
    assert [r.status for r in ledger.recent(settings)] == [ledger.OK]


def test_a_killed_flow_run_is_marked_crashed_in_prefect(
    prefect_server: None, settings: Settings
) -> None:
    from prefect.client.schemas.objects import StateType
    from prefect.states import Running

    @flow(name="lmsbridge-killed-probe")
    def never_called() -> None:
        pass

    with get_client(sync_client=True) as client:
        flow_run = client.create_flow_run(never_called, state=Running())
    _killed_run(settings, str(flow_run.id))
    assert mark_crashed_flow_runs(settings) == 1
    with get_client(sync_client=True) as client:
        state = client.read_flow_run(flow_run.id).state
    assert state is not None and state.type == StateType.CRASHED
    # Corrected once; a later start leaves it alone.
    assert mark_crashed_flow_runs(settings) == 0
    assert os.path.exists(ledger.ledger_path(settings))
