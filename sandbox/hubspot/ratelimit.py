"""HubSpot's limits: a rolling burst window per token, a daily count, and search's own 5/s."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class Decision:
    allowed: bool
    policy: str | None  # TEN_SECONDLY_ROLLING | DAILY | SECONDLY when refused
    max: int
    remaining: int
    interval_ms: int
    daily: int
    daily_remaining: int


class RateLimiter:
    def __init__(self, rate_max: int, interval_ms: int, daily_limit: int, search_per_s: int):
        self.lock = threading.Lock()
        self.configure(rate_max, interval_ms, daily_limit)
        self.search_per_s = search_per_s
        self.windows: dict[str, deque[float]] = {}
        self.search_window: deque[float] = deque()
        self.daily_used = 0

    def configure(self, rate_max: int, interval_ms: int, daily_limit: int) -> None:
        with self.lock:
            self.rate_max = rate_max
            self.interval_ms = interval_ms
            self.daily_limit = daily_limit

    def reset(self) -> None:
        with self.lock:
            self.windows.clear()
            self.search_window.clear()
            self.daily_used = 0

    @staticmethod
    def _trim(window: deque[float], now: float, span_s: float) -> None:
        while window and window[0] <= now - span_s:
            window.popleft()

    def check(self, token: str, *, search: bool) -> Decision:
        """Count one call if allowed. Refused calls are not counted."""
        now = time.monotonic()
        with self.lock:
            window = self.windows.setdefault(token, deque())
            self._trim(window, now, self.interval_ms / 1000)
            policy = None
            if self.daily_used >= self.daily_limit:
                policy = "DAILY"
            elif search:
                # Search is exempt from the burst bucket but has its own per-second limit.
                self._trim(self.search_window, now, 1.0)
                if len(self.search_window) >= self.search_per_s:
                    policy = "SECONDLY"
            elif len(window) >= self.rate_max:
                policy = "TEN_SECONDLY_ROLLING"
            if policy is None:
                self.daily_used += 1
                if search:
                    self.search_window.append(now)
                else:
                    window.append(now)
            return Decision(
                allowed=policy is None,
                policy=policy,
                max=self.rate_max,
                remaining=max(self.rate_max - len(window), 0),
                interval_ms=self.interval_ms,
                daily=self.daily_limit,
                daily_remaining=max(self.daily_limit - self.daily_used, 0),
            )
