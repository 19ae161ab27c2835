"""Client-side pacing: stay under a rolling-window rate limit instead of provoking 429s."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class RollingWindowLimiter:
    """At most `max_calls` starts in any `window_s` seconds, shared by all threads.

    Servers such as HubSpot (100 / 10 s rolling) and LearnWorlds (30 / 10 s) count calls in a
    sliding window, so a token bucket that refills continuously can still burst past them;
    remembering the actual start times cannot.
    """

    def __init__(
        self,
        max_calls: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_calls < 1 or window_s <= 0:
            raise ValueError("max_calls must be >= 1 and window_s > 0")
        self.max_calls = max_calls
        self.window_s = window_s
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _wait_time(self, now: float) -> float:
        while self._starts and now - self._starts[0] >= self.window_s:
            self._starts.popleft()
        wait = max(0.0, self._paused_until - now)
        if len(self._starts) >= self.max_calls:
            wait = max(wait, self._starts[0] + self.window_s - now)
        return wait

    def acquire(self) -> float:
        """Block until a call may start; returns the seconds spent waiting."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._wait_time(now)
                if wait <= 0:
                    self._starts.append(now)
                    return waited
            self._sleep(wait)
            waited += wait

    def penalize(self, seconds: float) -> None:
        """Pause every caller, e.g. after a 429 that says the server's window is full."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def observe_remaining(self, remaining: int) -> None:
        """Align with the server's view: if it reports fewer slots left than we think, use its count.

        Another client sharing the same token spends the same budget, which only the
        server's `Remaining` header reveals.
        """
        with self._lock:
            now = self._clock()
            self._wait_time(now)
            missing = (self.max_calls - max(remaining, 0)) - len(self._starts)
            if missing > 0:
                # Their start times are unknown: assume now, the conservative choice.
                self._starts.extend([now] * missing)
