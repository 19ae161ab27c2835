"""Flows fixtures: one temporary Prefect server and one small sandbox for the whole session
(starting either is slow), and a CLI environment pointed at that sandbox."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.generator import generate
from sandbox.runner import SandboxProcess

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

# Requests per window: no server-side limit worth waiting on, and a client paced to match.
FAST = 10_000


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect_home"))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture(scope="session")
def small_sandbox_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    data = tmp_path_factory.mktemp("flows-data") / "small"
    generate(data, 30, 5)
    with SandboxProcess(data, hubspot_rate_max=FAST, lms_rate_max=FAST) as sandbox:
        yield sandbox


@pytest.fixture
def cli_env(
    small_sandbox_proc: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> SandboxProcess:
    """Settings for the CLI: the small sandbox, a fresh warehouse, direct mode, short budgets."""
    small_sandbox_proc.reload()
    monkeypatch.chdir(tmp_path)  # no .env from the repo
    for key in list(os.environ):
        if key.startswith("LMSBRIDGE_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    for key, value in small_sandbox_proc.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(tmp_path / "wh" / "lmsbridge.duckdb"))
    monkeypatch.setenv("LMSBRIDGE_LMS_RATE_CALLS", str(FAST - 1000))
    # A refused connection or a storm gives up in seconds, not the production 3 minutes.
    monkeypatch.setenv("LMSBRIDGE_HTTP_RETRY_BUDGET_S", "2")
    return small_sandbox_proc
