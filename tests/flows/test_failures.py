"""Exit codes, transient-vs-terminal, the failure webhook and the automatic schedule pause."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from flows.errors import ConfigError, ExitCode, SyncFailed, exit_code_for, is_transient
from flows.notify import handle_failure
from flows.schedule_state import MAX_CONSECUTIVE_FAILURES, load_state, record_success, resume
from lmsbridge_core.http import DailyLimitExceeded, RetriesExhausted
from lmsbridge_core.settings import Settings

TOKEN = "pat-na1-canary-failures-not-real-0002"


def _http_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "http://127.0.0.1/x")
    return httpx.HTTPStatusError(
        "boom", request=request, response=httpx.Response(status, request=request)
    )


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (ConfigError("LMSBRIDGE_X is not set"), ExitCode.BAD_CONFIG),
        (_http_error(401), ExitCode.AUTH_FAILED),
        (RuntimeError("HubSpot refused GET /x: HTTP 403 MISSING_SCOPES"), ExitCode.AUTH_FAILED),
        (httpx.ConnectError("refused"), ExitCode.UNREACHABLE),
        (
            SyncFailed("sync contacts: RetriesExhausted ConnectError on GET /x"),
            ExitCode.UNREACHABLE,
        ),
        (_http_error(500), ExitCode.RUN_FAILED),
        (ValueError("anything else"), ExitCode.RUN_FAILED),
    ],
)
def test_exit_codes(exc: Exception, code: ExitCode) -> None:
    assert exit_code_for(exc) == code


def test_wrapped_errors_are_classified_by_their_cause() -> None:
    try:
        try:
            raise _http_error(401)
        except httpx.HTTPStatusError as inner:
            raise RuntimeError("pipeline step failed") from inner
    except RuntimeError as outer:
        assert exit_code_for(outer) == ExitCode.AUTH_FAILED


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (_http_error(429), True),
        (_http_error(503), True),
        (httpx.ReadTimeout("slow"), True),
        (RetriesExhausted("HTTP 502 on GET /x"), True),
        (_http_error(401), False),
        (_http_error(400), False),
        (DailyLimitExceeded("daily"), False),
        (httpx.ConnectError("refused"), False),
        (ValueError("bad row"), False),
    ],
)
def test_only_transient_errors_are_retried(exc: Exception, transient: bool) -> None:
    assert is_transient(exc) is transient


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
        state = handle_failure(settings, "lmsbridge-sync", run, _http_error(500), "")
        assert (state.consecutive_failures, state.paused) == (i, False)
    state = handle_failure(settings, "lmsbridge-sync", run, _http_error(500), "")
    assert state.paused and "consecutive failed runs" in (state.reason or "")
    assert load_state(settings).paused
    resume(settings)
    assert not load_state(settings).paused
    assert load_state(settings).consecutive_failures == 0


def test_auth_failure_pauses_at_once_and_success_resets_the_count(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    run = SimpleNamespace(id="r", name="n", deployment_id=None)
    handle_failure(settings, "lmsbridge-sync", run, _http_error(500), "")
    record_success(settings)
    assert load_state(settings).consecutive_failures == 0
    state = handle_failure(settings, "lmsbridge-sync", run, _http_error(401), "")
    assert state.paused and "authentication" in (state.reason or "")
