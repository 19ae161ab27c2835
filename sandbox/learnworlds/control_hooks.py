"""Wiring into the shared `/_sandbox/` control plane, plus the LMS-only control routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from sandbox.control import Chaos, ControlHooks
from sandbox.learnworlds.activity import ActivityRequest, generate_activity, mutate
from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import Emulator
from sandbox.learnworlds.errors import (
    NOT_FOUND,
    LearnWorldsError,
    rate_limited_response,
    server_error_response,
)
from sandbox.learnworlds.loader import DatasetError, load_into
from sandbox.learnworlds.store import Store


class WebhookTarget(BaseModel):
    url: str | None = None


def _is_write(request: Request) -> bool:
    # The token call is a POST but writes no school records.
    return request.method in {"POST", "PUT", "DELETE"} and request.url.path.startswith(
        f"{API_PREFIX}/v2/"
    )


def _extra_routes(emulator: Emulator) -> APIRouter:
    router = APIRouter()

    @router.post("/activity")
    def activity(body: ActivityRequest) -> dict[str, Any]:
        return generate_activity(
            emulator,
            learners=body.learners,
            events_count=body.events,
            new_users=body.new_users,
            seed=body.seed,
        )

    @router.get("/webhooks")
    def webhook_log() -> dict[str, Any]:
        dispatcher = emulator.webhooks
        return {
            "url": dispatcher.url,
            "pending": dispatcher.pending(),
            "deliveries": dispatcher.log(),
        }

    @router.post("/webhooks")
    def set_webhook_target(body: WebhookTarget) -> dict[str, Any]:
        emulator.webhooks.url = body.url
        return {"url": body.url}

    @router.post("/webhooks/clear")
    def clear_webhook_log() -> dict[str, Any]:
        emulator.webhooks.clear_log()
        return {"status": "cleared"}

    return router


def control_hooks(emulator: Emulator) -> ControlHooks:
    def reset() -> None:
        # Swap in a fresh store so readers holding the old one finish consistently.
        with emulator.lock:
            emulator.store = Store()
        emulator.limiter.reset()
        emulator.webhooks.clear_log()

    def load(path: Path) -> dict[str, Any]:
        fresh = Store()
        try:
            counts = load_into(fresh, path)
        except (DatasetError, OSError) as exc:
            raise LearnWorldsError(422, str(exc), "path") from None
        with emulator.lock:
            emulator.store = fresh
        return counts

    def state(kind: str | None) -> dict[str, Any]:
        with emulator.lock:
            if kind is None:
                return emulator.store.counts()
            try:
                return {"object": kind, "records": emulator.store.records(kind)}
            except KeyError:
                raise LearnWorldsError(404, NOT_FOUND) from None

    def on_chaos(chaos: Chaos) -> None:
        interval = None if chaos.rate_interval_ms is None else chaos.rate_interval_ms / 1000
        emulator.limiter.configure(chaos.rate_max, interval)
        emulator.tokens.set_ttl(chaos.token_ttl_s)

    def error(status: int) -> Response:
        return server_error_response(status)

    return ControlHooks(
        reset=reset,
        load=load,
        state=state,
        mutate=lambda body: mutate(emulator, body),
        error_response=error,
        rate_limited_response=rate_limited_response,
        is_write=_is_write,
        on_chaos=on_chaos,
        extra_routes=_extra_routes(emulator),
    )
