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

from extract.landing import LandingWriter
from extract.result import ExtractError
from lmsbridge_core.settings import Settings

SIGNATURE_HEADER = "Learnworlds-Webhook-Signature"
MAX_BODY_BYTES = 1_000_000


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


def create_app(settings: Settings) -> FastAPI:
    if settings.lms_webhook_secret is None or not settings.lms_webhook_secret.get_secret_value():
        raise ExtractError("LMSBRIDGE_LMS_WEBHOOK_SECRET must be set to receive webhooks")
    secret = settings.lms_webhook_secret.get_secret_value()
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
            event: Any = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "body is not valid JSON")
        if not isinstance(event, dict):
            return _error(400, "body must be a JSON object")
        if not isinstance(event.get("type"), str) or not event["type"]:
            return _error(400, "event has no 'type'")
        delivery = await run_in_threadpool(writer.append, event, body)
        return JSONResponse({"delivery_id": delivery}, status_code=200)

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the receiver in the foreground (blocking)."""
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
