"""LMS extraction: webhooks loaded exactly once, malformed pages, token re-mint on 401."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from extract import ExtractError, run_lms
from extract.webhooks import create_app
from lmsbridge_core.serving import serve_in_background
from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess, free_port
from tests.extract.helpers import FAST_RATE, count, settings_for


def _wait_delivered(sb: SandboxProcess) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        log = sb.control_get("lms", "webhooks")
        if log["pending"] == 0:
            return list(log["deliveries"])
        assert time.monotonic() < deadline, "webhooks not delivered"
        time.sleep(0.1)


def test_delivered_webhooks_load_exactly_once(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    run_lms(settings, rate=FAST_RATE)
    with serve_in_background(create_app(settings), "webhook receiver") as receiver:
        small_sandbox.control_post("lms", "webhooks", {"url": f"{receiver}/webhooks/learnworlds"})
        small_sandbox.control_post("lms", "activity", {"learners": 3, "seed": 5})
        deliveries = _wait_delivered(small_sandbox)
    small_sandbox.control_post("lms", "webhooks", {"url": None})
    delivered = [d for d in deliveries if d["delivered"]]
    assert delivered, "the activity produced no webhooks"

    first = run_lms(settings, rate=FAST_RATE)
    assert first.rows_by_table["webhook_events"] == len(delivered)
    second = run_lms(settings, rate=FAST_RATE)
    assert "webhook_events" not in second.rows_by_table
    assert count(settings, "raw_lms.webhook_events") == len(delivered)
    types = {d["type"] for d in delivered}
    landed = {r[0] for r in _types(settings)}
    assert landed == types


def _types(settings: Settings) -> list[tuple[Any, ...]]:
    from tests.extract.helpers import query

    return query(settings, "select distinct type from raw_lms.webhook_events")


class _TinySchool(BaseHTTPRequestHandler):
    """A minimal LearnWorlds: one user, one course; knobs break one list or the first token."""

    broken_path: str | None = None
    reject_first_token = False
    tokens_issued = 0

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        cls = type(self)
        cls.tokens_issued += 1
        token = f"token-{cls.tokens_issued}"
        self._send(200, {"tokenData": {"access_token": token, "expires_in": 8000}, "success": True})

    def do_GET(self) -> None:
        cls = type(self)
        url = urlparse(self.path)
        path = url.path.removeprefix("/admin/api")
        if cls.reject_first_token and self.headers.get("Authorization") == "Bearer token-1":
            self._send(401, {"errors": [{"code": 401, "message": "expired"}], "success": False})
            return
        if path == cls.broken_path:
            self._send(200, b'{"data": [{"id": "x"}]}')
            return
        rows: dict[str, list[dict[str, Any]]] = {
            "/v2/users": [{"id": "u1", "email": "a@x.com", "created": 1_700_000_000.5}],
            "/v2/courses": [{"id": "c1", "title": "C1", "created": 1.0}],
            "/v2/courses/c1/users": [{"id": "u1", "email": "a@x.com"}],
            "/v2/event-logs": [
                {"user": {"id": "u1"}, "created": 1_700_000_001.0, "activity": "login"}
            ],
            "/v2/users/u1/courses": [
                {"created": 1_700_000_002, "expires": None, "course": {"id": "c1"}}
            ],
        }
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        self._send(200, {"data": rows.get(path, []), "meta": {"page": page, "totalPages": 1}})


@pytest.fixture
def tiny_school() -> Iterator[tuple[type[_TinySchool], str]]:
    handler = type("School", (_TinySchool,), {})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_port}/admin/api"
    server.shutdown()
    thread.join(timeout=10)


def _tiny_settings(url: str, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        warehouse_path=tmp_path / "wh" / "w.duckdb",
        lms_base_url=url,
        lms_client_id="tiny-client",
        lms_client_secret="tiny-secret-value",
    )


def test_malformed_page_fails_clearly_and_loses_nothing(tiny_school, tmp_path: Path):
    handler, url = tiny_school
    settings = _tiny_settings(url, tmp_path)
    handler.broken_path = "/v2/event-logs"
    with pytest.raises(ExtractError, match=r"event-logs.*meta\.totalPages") as info:
        run_lms(settings, rate=FAST_RATE)
    assert "tiny-secret-value" not in str(info.value)

    # Nothing from the failed run counts as done: once the API is healthy, all of it lands.
    handler.broken_path = None
    run_lms(settings, rate=FAST_RATE)
    assert count(settings, "raw_lms.users") == 1
    assert count(settings, "raw_lms.event_logs") == 1
    assert count(settings, "raw_lms.enrollments") == 1


def test_rejected_token_is_reminted_once(tiny_school, tmp_path: Path):
    handler, url = tiny_school
    handler.reject_first_token = True
    settings = _tiny_settings(url, tmp_path)
    run_lms(settings, rate=FAST_RATE)
    assert handler.tokens_issued == 2
    assert count(settings, "raw_lms.users") == 1
