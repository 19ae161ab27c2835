"""The API's one documented limit: 30 requests per 10 s, per client, sliding window."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.learnworlds.errors import rate_limited_response


class SlidingWindowLimiter:
    """Admits at most `max_calls` per `interval_s` per key; rejected calls do not count."""

    def __init__(self, max_calls: int, interval_s: float) -> None:
        self.default = (max_calls, interval_s)
        self.max_calls = max_calls
        self.interval_s = interval_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def configure(self, max_calls: int | None, interval_s: float | None) -> None:
        self.max_calls = self.default[0] if max_calls is None else max_calls
        self.interval_s = self.default[1] if interval_s is None else interval_s
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            horizon = now - self.interval_s
            while hits and hits[0] <= horizon:
                hits.popleft()
            if len(hits) >= self.max_calls:
                return False
            hits.append(now)
            return True


class RateLimitMiddleware:
    """Applies the limiter to every API call (the token call too), keyed by `Lw-Client`."""

    def __init__(self, app: ASGIApp, limiter: SlidingWindowLimiter, prefix: str) -> None:
        self.app = app
        self.limiter = limiter
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and str(scope.get("path", "")).startswith(self.prefix)
            and not self.limiter.allow(_client_key(scope))
        ):
            await rate_limited_response()(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _client_key(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"lw-client":
            return value.decode("latin-1")
    return ""
