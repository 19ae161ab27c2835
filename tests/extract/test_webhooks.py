"""Webhook receiver: signature check, input validation, durable landing, exactly-once reading."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from extract import landing
from extract.webhooks import SIGNATURE_HEADER, create_app
from lmsbridge_core.errors import ConfigurationError
from lmsbridge_core.serving import serve_in_background
from lmsbridge_core.settings import Settings

SECRET = "test-webhook-secret"
EVENT = {
    "version": 2,
    "type": "courseCompleted",
    "trigger": "course_completed",
    "school_id": "60004a6de11ac0798538ccc2",
    "data": {"completed_at": 1637232384.5, "course": {"id": "c1"}, "user": {"id": "u1"}},
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        warehouse_path=tmp_path / "wh.duckdb",
        lms_webhook_secret=SECRET,
    )


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _landed(settings: Settings) -> list[dict]:
    files = sorted(settings.landing_dir.glob("*.jsonl")) if settings.landing_dir.is_dir() else []
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


def _post(client: TestClient, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return client.post("/webhooks/learnworlds", content=body, headers=headers)


def test_shared_secret_signature_lands_event_with_delivery_id(client, settings):
    body = json.dumps(EVENT).encode()
    response = _post(client, body, f"v1={SECRET}")
    assert response.status_code == 200
    landed = _landed(settings)
    assert len(landed) == 1
    assert landed[0]["delivery_id"] == hashlib.sha256(body).hexdigest()
    assert landed[0]["type"] == "courseCompleted"
    assert landed[0]["received_at"]


def test_hmac_of_body_is_accepted(client, settings):
    body = json.dumps(EVENT).encode()
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert _post(client, body, f"v1={digest}").status_code == 200
    assert len(_landed(settings)) == 1


@pytest.mark.parametrize("signature", [None, "v1=wrong", f"v0={SECRET}", "", SECRET])
def test_bad_or_missing_signature_is_401_and_lands_nothing(client, settings, signature):
    response = _post(client, json.dumps(EVENT).encode(), signature)
    assert response.status_code == 401
    assert SECRET not in response.text
    assert _landed(settings) == []


@pytest.mark.parametrize(
    "body", [b"{not json", b"[1, 2]", json.dumps({"data": {}}).encode(), b'{"type": ""}']
)
def test_malformed_body_is_400_and_lands_nothing(client, settings, body):
    assert _post(client, body, f"v1={SECRET}").status_code == 400
    assert _landed(settings) == []


def test_receiver_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(ConfigurationError, match="LMSBRIDGE_LMS_WEBHOOK_SECRET"):
        create_app(Settings(_env_file=None, warehouse_path=tmp_path / "w.duckdb"))


def test_reader_returns_only_complete_lines_past_the_offset(tmp_path):
    writer = landing.LandingWriter(tmp_path)
    writer.append({"type": "a"}, b"1")
    offsets: dict[str, int] = {}
    chunks = list(landing.read_new(tmp_path, offsets))
    assert [e["type"] for c in chunks for e in c.events] == ["a"]
    offsets = {c.file: c.end_offset for c in chunks}
    # A half-written tail (crash mid-append) waits; the next complete line is read once.
    path = next(tmp_path.glob("*.jsonl"))
    with path.open("ab") as fh:
        fh.write(b'{"type": "b", "delivery_id": "x"')
    assert list(landing.read_new(tmp_path, offsets)) == []
    with path.open("ab") as fh:
        fh.write(b"}\n")
    again = list(landing.read_new(tmp_path, offsets))
    assert [e["type"] for c in again for e in c.events] == ["b"]


def _nested(depth: int) -> bytes:
    return b'{"type": "x", "data": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}"


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The receiver over real HTTP (uvicorn), as LearnWorlds reaches it."""
    settings = Settings(
        _env_file=None,
        warehouse_path=tmp_path_factory.mktemp("hooks") / "wh.duckdb",
        lms_webhook_secret=SECRET,
    )
    with serve_in_background(create_app(settings), "webhook-receiver") as url:
        yield url, settings


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (_nested(300), "cannot be stored"),  # orjson writes at most 254 levels
        (_nested(5000), "nested too deeply"),  # past Python's recursion limit
        (b'{"type": "x", "n": 18446744073709551616}', "does not fit in 64 bits"),
        (b'{"type": "x", "n": -9223372036854775809}', "does not fit in 64 bits"),
        (b'{"type": "x", "n": 1e999}', "out of range"),
        (b'{"type": "x", "n": NaN}', "NaN is not JSON"),
        (b'{"type": "x", "s": "\\ud800"}', "cannot be stored"),  # lone surrogate
        (b'{"type": "caf\xe9"}', "not UTF-8 (byte 13"),
        (b'"just a string"', "must be a JSON object, not str"),
        (b"null", "must be a JSON object, not NoneType"),
        (b"", "not valid JSON"),
        (b'{"type": "x", "n": ' + b"9" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_signed_payloads_it_cannot_store_are_400_over_http(receiver, body, reason):
    url, settings = receiver
    before = _landed(settings)
    response = httpx.post(
        f"{url}/webhooks/learnworlds",
        content=body,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: f"v1={SECRET}"},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]
    assert _landed(settings) == before


def test_edge_values_that_can_be_stored_land_exactly_over_http(receiver):
    url, settings = receiver
    event = {"type": "x", "max": 2**64 - 1, "min": -(2**63), "deep": json.loads(_nested(200))}
    body = json.dumps(event).encode()
    response = httpx.post(
        f"{url}/webhooks/learnworlds",
        content=body,
        headers={SIGNATURE_HEADER: f"v1={SECRET}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    landed = [e for e in _landed(settings) if e["delivery_id"] == response.json()["delivery_id"]]
    assert landed[0]["max"] == 2**64 - 1 and landed[0]["min"] == -(2**63)
    # The extract's reader gets it back as sent.
    chunks = list(landing.read_new(settings.landing_dir, {}))
    assert any(e.get("max") == 2**64 - 1 for c in chunks for e in c.events)
