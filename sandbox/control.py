"""The `/_sandbox/` control API and the chaos/counting middleware both emulators share.

Tests and benchmarks assert on what the emulators saw (calls per route and status, write
calls, records written) and inject failures (latency, 5xx, 429 bursts, fail-after-N) at
runtime, without restarting the servers.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, ConfigDict
from starlette.middleware.base import BaseHTTPMiddleware

CONTROL_PREFIX = "/_sandbox"


class Chaos(BaseModel):
    """Runtime knobs. Unset rate fields leave the emulator's configured limits in place."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: float = 0
    error_rate: float = 0
    burst_429: int = 0
    fail_after: int | None = None
    seed: int | None = None
    rate_max: int | None = None
    rate_interval_ms: int | None = None
    daily_limit: int | None = None
    token_ttl_s: float | None = None
    search_index_lag_ms: int | None = None  # HubSpot only


class LoadRequest(BaseModel):
    path: Path


@dataclass
class CallStats:
    """Thread-safe counters behind `GET /_sandbox/calls`."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _routes: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    write_calls: int = 0
    records_written: int = 0

    def record(self, method: str, route: str, status: int, *, write: bool, records: int) -> None:
        with self._lock:
            self._routes[(method, route, status)] += 1
            if write:
                self.write_calls += 1
                self.records_written += records

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self.write_calls = 0
            self.records_written = 0

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            routes = [
                {"method": m, "route": r, "status": s, "count": n}
                for (m, r, s), n in sorted(self._routes.items())
            ]
            return {
                "total": sum(self._routes.values()),
                "write_calls": self.write_calls,
                "records_written": self.records_written,
                "status_429": sum(n for (_, _, s), n in self._routes.items() if s == 429),
                "routes": routes,
            }


@dataclass
class ControlHooks:
    """What each emulator plugs into the shared control plane."""

    reset: Callable[[], None]
    load: Callable[[Path], dict[str, Any]]
    state: Callable[[str | None], dict[str, Any]]
    mutate: Callable[[dict[str, Any]], dict[str, Any]]
    error_response: Callable[[int], Response]
    rate_limited_response: Callable[[], Response]
    is_write: Callable[[Request], bool]
    on_chaos: Callable[[Chaos], None] | None = None
    # Paths relative to /_sandbox, e.g. "/activity"; mounted under the control prefix.
    extra_routes: APIRouter | None = None


@dataclass
class ControlState:
    hooks: ControlHooks
    stats: CallStats = field(default_factory=CallStats)
    chaos: Chaos = field(default_factory=Chaos)
    rng: random.Random = field(default_factory=random.Random)
    counted_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set_chaos(self, chaos: Chaos) -> None:
        with self._lock:
            self.chaos = chaos
            self.rng = random.Random(chaos.seed)
            self.counted_calls = 0
        if self.hooks.on_chaos is not None:
            self.hooks.on_chaos(chaos)

    def injected_failure(self) -> Response | None:
        """Decide, under the lock, whether chaos answers this call instead of the emulator."""
        with self._lock:
            self.counted_calls += 1
            chaos = self.chaos
            if chaos.fail_after is not None and self.counted_calls > chaos.fail_after:
                return self.hooks.error_response(503)
            if chaos.burst_429 > 0:
                self.chaos = chaos.model_copy(update={"burst_429": chaos.burst_429 - 1})
                return self.hooks.rate_limited_response()
            if chaos.error_rate > 0 and self.rng.random() < chaos.error_rate:
                return self.hooks.error_response(500)
        return None


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "<unmatched>"


class _ControlMiddleware(BaseHTTPMiddleware):
    def __init__(self, app: Any, control: ControlState) -> None:
        super().__init__(app)
        self.control = control

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.url.path.startswith(CONTROL_PREFIX):
            return await call_next(request)
        control = self.control
        if control.chaos.latency_ms > 0:
            await asyncio.sleep(control.chaos.latency_ms / 1000)
        injected = control.injected_failure()
        if injected is not None:
            response = injected
            route = "<chaos>"
        else:
            response = await call_next(request)
            route = _route_template(request)
        records = int(getattr(request.state, "records_written", 0) or 0)
        write = response.status_code < 300 and control.hooks.is_write(request)
        control.stats.record(
            request.method, route, response.status_code, write=write, records=records
        )
        return response


def install_control(app: FastAPI, hooks: ControlHooks) -> ControlState:
    """Add the `/_sandbox/*` routes and the counting/chaos middleware to an emulator app."""
    control = ControlState(hooks=hooks)
    router = APIRouter(prefix=CONTROL_PREFIX, include_in_schema=False)

    @router.post("/reset")
    def reset() -> dict[str, Any]:
        hooks.reset()
        control.stats.reset()
        control.set_chaos(Chaos())
        return {"status": "reset"}

    @router.post("/load")
    def load(body: LoadRequest) -> dict[str, Any]:
        counts = hooks.load(body.path)
        control.stats.reset()
        return {"status": "loaded", "counts": counts}

    @router.get("/state")
    def state(object: str | None = None) -> dict[str, Any]:
        return hooks.state(object)

    @router.get("/calls")
    def calls() -> dict[str, Any]:
        return control.stats.snapshot()

    @router.post("/calls/reset")
    def calls_reset() -> dict[str, Any]:
        control.stats.reset()
        return {"status": "reset"}

    @router.get("/chaos")
    def get_chaos() -> dict[str, Any]:
        return control.chaos.model_dump()

    @router.post("/chaos")
    def set_chaos(body: Chaos) -> dict[str, Any]:
        control.set_chaos(body)
        return control.chaos.model_dump()

    @router.post("/mutate")
    def mutate(body: dict[str, Any]) -> dict[str, Any]:
        return hooks.mutate(body)

    app.include_router(router)
    if hooks.extra_routes is not None:
        app.include_router(hooks.extra_routes, prefix=CONTROL_PREFIX, include_in_schema=False)
    app.add_middleware(_ControlMiddleware, control=control)
    app.state.control = control
    return control
