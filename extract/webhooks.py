"""LearnWorlds webhook receiver: verify, then append to a landing file; never touches DuckDB.

LearnWorlds sends `Learnworlds-Webhook-Signature: v1=<value>`. Its docs describe a pre-shared
value, public receivers also assume an HMAC-SHA256 of the body; we accept either, compared in
constant time, because the real scheme is unconfirmed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from extract.landing import LandingWriter, UnstorableEvent
from lmsbridge_core.settings import Settings

SIGNATURE_HEADER = "Learnworlds-Webhook-Signature"
MAX_BODY_BYTES = 1_000_000
_INT64 = (-(2**63), 2**64 - 1)


def signature_ok(header: str | None, body: bytes, secret: str) -> bool:
    if not header:
        return False
    expected = (secret, hmac.new(secret.encode(), body, hashlib.sha256).hexdigest())
    ok = False
    for part in header.split(","):
        version, _, value = part.strip().partition("=")
        if version != "v1" or not value:
            continue
        for candidate in expected:
            # Evaluate both comparisons every time so timing does not reveal which one matched.
            ok |= hmac.compare_digest(value.encode(), candidate.encode())
    return ok


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _int64(text: str) -> int:
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise ValueError(f"integer {text[:40]} does not fit in 64 bits")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_event(body: bytes) -> dict[str, Any]:
    """The webhook body as a JSON object, or ValueError with a one-line reason.

    Stricter than `json.loads`: the landing file is read back by orjson, and values it cannot
    round-trip (NaN, huge integers, which it would turn into lossy floats) must be refused
    while the sender can still see the error, not dropped at extract time.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"body is not UTF-8 (byte {exc.start}: {exc.reason})") from None
    try:
        event = json.loads(text, parse_int=_int64, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("body is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"body is not valid JSON: {exc}") from None
    if not isinstance(event, dict):
        raise ValueError(f"body must be a JSON object, not {type(event).__name__}")
    if not isinstance(event.get("type"), str) or not event["type"]:
        raise ValueError("event has no 'type'")
    return event


def create_app(settings: Settings) -> FastAPI:
    secret = settings.require_webhook_secret()
    writer = LandingWriter(settings.landing_dir)
    app = FastAPI(title="lmsbridge webhook receiver", docs_url=None, redoc_url=None)

    @app.get("/healthz")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/webhooks/learnworlds")
    async def learnworlds(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "body too large")
        if not signature_ok(request.headers.get(SIGNATURE_HEADER), body, secret):
            return _error(401, "missing or invalid Learnworlds-Webhook-Signature")
        try:
            event = parse_event(body)
            delivery = await run_in_threadpool(writer.append, event, body)
        except (ValueError, UnstorableEvent) as exc:
            return _error(400, str(exc))
        except OSError as exc:
            # Our disk, not their payload: 503 so LearnWorlds delivers it again later.
            return _error(503, f"could not store the event: {exc.strerror or exc}")
        return JSONResponse({"delivery_id": delivery}, status_code=200)

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the receiver in the foreground (blocking)."""
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
