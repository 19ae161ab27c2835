"""Exit codes and retries driven through the real clients against the emulators, the failure
webhook and the automatic schedule pause."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from flows import pipeline
from flows.notify import handle_failure
from flows.schedule_state import MAX_CONSECUTIVE_FAILURES, load_state, record_success, resume
from lmsbridge_cli.cli import app
from lmsbridge_core.errors import AuthenticationError, TransientError
from lmsbridge_core.settings import Settings, load_settings
from sandbox.runner import SandboxProcess, free_port

TOKEN = "pat-na1-canary-failures-not-real-0002"
runner = CliRunner()


def _invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


# ---- exit codes through the real clients ------------------------------------------------


def test_refused_hubspot_token_fails_the_run_with_3_and_pauses_the_schedule(
    cli_env: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli_env.control_post("hubspot", "auth", {"tokens": [cli_env.hubspot_token]})
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN", TOKEN)
    try:
        result = _invoke("run")
    finally:
        cli_env.control_post("hubspot", "auth", {"tokens": None})
    assert result.exit_code == 3, result.output
    assert TOKEN not in result.output
    assert "Traceback" not in result.output
    # A direct run keeps the flow's bookkeeping: an auth failure pauses the schedule.
    assert load_state(load_settings()).paused


@pytest.mark.parametrize("debug", [False, True])
def test_wrong_lms_client_secret_exits_3_with_and_without_debug(
    cli_env: SandboxProcess, monkeypatch: pytest.MonkeyPatch, debug: bool
) -> None:
    secret = "canary-lms-secret-not-real-0003"
    monkeypatch.setenv("LMSBRIDGE_LMS_CLIENT_SECRET", secret)
    result = _invoke(*(["--debug"] if debug else []), "extract", "lms")
    assert result.exit_code == 3, result.output
    assert ("Traceback" in result.output) is debug
    assert secret not in result.output


def test_unreachable_api_exits_4(cli_env: SandboxProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_BASE_URL", f"http://127.0.0.1:{free_port()}")
    result = _invoke("extract", "hubspot")
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output


def test_unreachable_lms_fails_the_whole_run_with_4(
    cli_env: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSBRIDGE_LMS_BASE_URL", f"http://127.0.0.1:{free_port()}/admin/api")
    result = _invoke("run")
    assert result.exit_code == 4, result.output


@pytest.mark.parametrize("command", [["run"], ["extract", "csv"], ["extract"]])
def test_missing_csv_folder_exits_2(
    cli_env: SandboxProcess, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    monkeypatch.setenv("LMSBRIDGE_LMS_CSV_DIR", str(tmp_path / "no-such-folder"))
    result = _invoke(*command)
    assert result.exit_code == 2, result.output
    assert "LMSBRIDGE_LMS_CSV_DIR" in result.output
    assert "Traceback" not in result.output


def test_a_one_source_extract_needs_only_that_source(
    cli_env: SandboxProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("LMSBRIDGE_LMS_BASE_URL", "LMSBRIDGE_LMS_CSV_DIR"):
        monkeypatch.delenv(key)
    assert _invoke("extract", "hubspot").exit_code == 0
    result = _invoke("extract", "lms")
    assert result.exit_code == 2
    assert "LMSBRIDGE_LMS_BASE_URL" in result.output


def test_unknown_sync_name_exits_2(cli_env: SandboxProcess) -> None:
    result = _invoke("sync", "--only", "nonexistent")
    assert result.exit_code == 2, result.output
    assert "nonexistent" in result.output


def test_negative_status_limit_exits_2(cli_env: SandboxProcess) -> None:
    assert _invoke("status", "--limit", "-5").exit_code == 2


@pytest.mark.parametrize("kind", ["folder", "not-duckdb", "parent-is-a-file"])
@pytest.mark.parametrize("command", [["run"], ["extract", "hubspot"], ["status"]])
def test_bad_warehouse_path_exits_2_naming_the_setting(
    cli_env: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    kind: str,
    command: list[str],
) -> None:
    if kind == "folder":
        path = tmp_path / "a-folder"
        path.mkdir()
    elif kind == "not-duckdb":
        path = tmp_path / "notes.duckdb"
        path.write_text("not a database\n")
    else:
        (tmp_path / "plain-file").write_text("x")
        path = tmp_path / "plain-file" / "lmsbridge.duckdb"
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(path))
    result = _invoke(*command)
    assert result.exit_code == 2, result.output
    assert "LMSBRIDGE_WAREHOUSE_PATH" in result.output
    assert "internet" not in result.output
    assert "Traceback" not in result.output
    assert len([ln for ln in result.output.splitlines() if ln.strip()]) == 1


# ---- retries: real transient errors from the emulators ---------------------------------


def test_a_transient_failure_is_retried_and_the_step_succeeds(cli_env: SandboxProcess) -> None:
    # Every HubSpot call answers 503 until the first retry's pause lifts the fault.
    cli_env.control_post("hubspot", "chaos", {"fail_after": 0})
    errors: list[float] = []

    def pause(delay_s: float) -> None:
        errors.append(delay_s)
        cli_env.control_post("hubspot", "chaos", {})

    direct = pipeline.DirectRunner(pipeline.RetryPolicy(delays_s=(0.1,)), sleep=pause)
    result = direct.run("extract-hubspot", pipeline.extract_hubspot, load_settings(), True)
    assert direct.attempts["extract-hubspot"] == 2
    assert len(errors) == 1
    assert sum(result.rows_by_table.values()) > 0


def test_an_auth_failure_is_never_retried(cli_env: SandboxProcess) -> None:
    cli_env.control_post("hubspot", "auth", {"tokens": ["pat-na1-only-this-one"]})
    direct = pipeline.DirectRunner(pipeline.RetryPolicy(delays_s=(0.0,)), sleep=lambda _: None)
    try:
        with pytest.raises(AuthenticationError):
            direct.run("extract-hubspot", pipeline.extract_hubspot, load_settings(), True)
    finally:
        cli_env.control_post("hubspot", "auth", {"tokens": None})
    assert direct.attempts["extract-hubspot"] == 1


def test_the_prefect_task_retries_a_real_transient_error(
    cli_env: SandboxProcess, prefect_server: None
) -> None:
    from prefect import flow, task

    from flows.sync_flow import _task_options

    calls: list[int] = []

    def extract_then_heal(settings: Settings) -> Any:
        calls.append(1)
        try:
            return pipeline.extract_hubspot(settings, True)
        finally:
            cli_env.control_post("hubspot", "chaos", {})

    # The flow's own retry options, without the production pauses.
    options = _task_options(retry=True) | {"retry_delay_seconds": 0, "retry_jitter_factor": None}
    step = task(extract_then_heal, name="extract-hubspot-retry-probe", **options)

    @flow(name="lmsbridge-retry-probe")
    def probe() -> Any:
        return step(load_settings())

    cli_env.control_post("hubspot", "chaos", {"fail_after": 0})
    result = probe()
    assert len(calls) == 2
    assert sum(result.rows_by_table.values()) > 0


# ---- failure webhook and schedule pause ------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"body": json.loads(body), "raw": body.decode()})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver.received
    finally:
        server.shutdown()
        server.server_close()


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(
        warehouse_path=tmp_path / "wh" / "lmsbridge.duckdb", hubspot_access_token=TOKEN, **kw
    )


def _transient() -> TransientError:
    return TransientError("HubSpot answered 503 until the retry budget ran out", status=503)


def test_failure_webhook_gets_a_small_json_without_secrets(
    tmp_path: Path, webhook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = webhook
    settings = _settings(tmp_path, failure_webhook_url=url)
    run = SimpleNamespace(id="run-1", name="brave-fox", deployment_id=None)
    handle_failure(settings, "lmsbridge-sync", run, RuntimeError(f"token {TOKEN} leaked?"), "")
    assert len(received) == 1
    body = received[0]["body"]
    assert body["event"] == "lmsbridge.run_failed"
    assert body["flow_run_name"] == "brave-fox"
    assert body["consecutive_failures"] == 1
    assert TOKEN not in received[0]["raw"]


def test_failure_streak_pauses_and_resume_clears(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    run = SimpleNamespace(id="r", name="n", deployment_id=None)
    for i in range(1, MAX_CONSECUTIVE_FAILURES):
        state = handle_failure(settings, "lmsbridge-sync", run, _transient(), "")
        assert (state.consecutive_failures, state.paused) == (i, False)
    state = handle_failure(settings, "lmsbridge-sync", run, _transient(), "")
    assert state.paused and "consecutive failed runs" in (state.reason or "")
    assert load_state(settings).paused
    resume(settings)
    assert not load_state(settings).paused
    assert load_state(settings).consecutive_failures == 0


def test_auth_failure_pauses_at_once_and_success_resets_the_count(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    run = SimpleNamespace(id="r", name="n", deployment_id=None)
    handle_failure(settings, "lmsbridge-sync", run, _transient(), "")
    record_success(settings)
    assert load_state(settings).consecutive_failures == 0
    auth = AuthenticationError("HubSpot refused the token (401)", api="hubspot", status=401)
    state = handle_failure(settings, "lmsbridge-sync", run, RuntimeError("step failed"), "")
    assert not state.paused
    try:
        raise RuntimeError("extract failed") from auth
    except RuntimeError as wrapped:
        state = handle_failure(settings, "lmsbridge-sync", run, wrapped, "")
    assert state.paused and "authentication" in (state.reason or "")
