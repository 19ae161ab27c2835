"""Entry points together: concurrent extracts into one warehouse, no secrets in logs or errors."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from extract import run_csv, run_hubspot, run_lms
from extract.pipelines import pipelines_dir
from lmsbridge_core.errors import AuthenticationError, ExitCode, exit_code_for
from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess
from tests.extract.helpers import FAST_RATE, count, manifest_counts, settings_for


def test_three_extracts_run_concurrently_into_one_warehouse(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    steps: list[tuple[str, int, int | None]] = []
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(run_lms, settings, rate=FAST_RATE, progress=lambda *a: steps.append(a)),
            pool.submit(run_hubspot, settings, search_rate=(1000, 1.0)),
            pool.submit(run_csv, settings),
        ]
        results = [f.result() for f in futures]
    assert [r.source for r in results] == ["lms", "hubspot", "csv"]
    expected = manifest_counts(small_sandbox.data_dir)
    assert count(settings, "raw_lms.users") == expected["lms/users.jsonl"]
    assert count(settings, "raw_hubspot.contacts") == expected["hubspot/contacts.jsonl"]
    landed = count(settings, "raw_lms_files.lms_history_events")
    rejected = count(settings, "raw_lms_files.rejected_rows")
    assert landed + rejected == expected["history/lms_history.csv"]
    assert rejected == results[2].rejected > 0  # the generator plants bad rows
    # dlt state lives beside the warehouse, and progress was reported along the way.
    assert (pipelines_dir(settings) / "lmsbridge_lms").is_dir()
    assert any(step == "lms:learners" for step, _, _ in steps)


def test_no_secret_reaches_logs_or_errors(
    small_sandbox: SandboxProcess,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
):
    settings = settings_for(small_sandbox, tmp_path)
    # Another test in this worker may have started Prefect's server, whose database migration
    # loads a logging config that disables every existing logger: this test needs every
    # record to reach caplog, so it re-enables them (children too) for its duration.
    logging.disable(logging.NOTSET)
    ours = ("extract", "httpx", "httpcore", "dlt", "lmsbridge")
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", False)
            if name.split(".")[0] in ours:
                monkeypatch.setattr(logger, "propagate", True)
    caplog.set_level(logging.DEBUG)
    for name in ours:  # a level an earlier setup raised (e.g. to INFO) would drop records
        caplog.set_level(logging.DEBUG, logger=name)
    run_lms(settings, rate=FAST_RATE)
    run_hubspot(settings, search_rate=(1000, 1.0))
    bad = Settings(
        _env_file=None,
        warehouse_path=tmp_path / "bad" / "w.duckdb",
        lms_base_url=small_sandbox.lms_url,
        lms_client_id=small_sandbox.lms_client_id,
        lms_client_secret="not-the-right-secret-value",
    )
    with pytest.raises(AuthenticationError, match="token request refused") as info:
        run_lms(bad, rate=FAST_RATE)
    assert exit_code_for(info.value) == ExitCode.AUTH_FAILED
    secrets = [*settings.secrets(), "not-the-right-secret-value"]
    text = caplog.text + str(info.value)
    assert caplog.text  # debug logging really was on
    for secret in secrets:
        assert secret not in text
    tokens = [s for s in _stored_strings(settings) if any(x in s for x in secrets)]
    assert tokens == []


def _stored_strings(settings: Settings) -> list[str]:
    """Every file dlt keeps beside the warehouse (state, schemas, load packages)."""
    out = []
    for path in pipelines_dir(settings).rglob("*"):
        if path.is_file():
            out.append(path.read_bytes().decode("utf-8", errors="replace"))
    return out
