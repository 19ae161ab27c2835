"""HTTP pacing and retry driven by HubSpot's rate-limit headers, reusable by any HubSpot client.

HubSpot counts calls per token in a rolling window and says so on every (non-search) response:
`X-HubSpot-RateLimit-Max`, `-Remaining`, `-Interval-Milliseconds`. We pace to stay just under
that window instead of provoking 429s, and retry what is transient (429 burst, 423, 5xx,
timeouts) with jittered backoff. A DAILY 429 is terminal until the account's day resets.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from lmsbridge_core.pacing import RollingWindowLimiter

RETRYABLE_STATUS = frozenset({423, 429, 500, 502, 503, 504, 524})
DEFAULT_MAX = 100
DEFAULT_INTERVAL_S = 10.0


class HttpError(Exception):
    """Base for errors raised by `PacedHttp`; messages never contain request headers."""


class TransientHttpError(HttpError):
    """Worth retrying: the same request may succeed later."""

    def __init__(self, message: str, *, status: int | None, retry_after_s: float | None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class DailyLimitExceeded(HttpError):
    """The account's daily quota is spent; retrying before it resets only burns more calls."""


class RetriesExhausted(HttpError):
    """A transient failure outlived the retry budget."""


@dataclass
class CallCounters:
    """What a run reports: every HTTP attempt, and how many of them were 429s."""

    calls: int = 0
    status_429: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def count(self, status: int | None) -> None:
        with self._lock:
            self.calls += 1
            if status == 429:
                self.status_429 += 1


class HubSpotRateLimiter:
    """A rolling-window limiter whose size follows the server's headers.

    `margin` slots are left unused because the server stamps a call on arrival, a little
    after we stamp it on departure; without slack the window edges would collide.
    """

    def __init__(
        self, max_calls: int = DEFAULT_MAX, interval_s: float = DEFAULT_INTERVAL_S, margin: int = 2
    ) -> None:
        self.margin = margin
        self._lock = threading.Lock()
        self._limiter = self._make(max_calls, interval_s)

    def _make(self, max_calls: int, interval_s: float) -> RollingWindowLimiter:
        return RollingWindowLimiter(max(1, max_calls - self.margin), interval_s)

    @property
    def max_calls(self) -> int:
        return self._limiter.max_calls

    @property
    def interval_s(self) -> float:
        return self._limiter.window_s

    def acquire(self) -> float:
        with self._lock:
            limiter = self._limiter
        return limiter.acquire()

    def observe(self, headers: httpx.Headers) -> None:
        """Adopt the server's window size and remaining budget when it reports them."""
        max_calls = _int_header(headers, "X-HubSpot-RateLimit-Max")
        interval_ms = _int_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        remaining = _int_header(headers, "X-HubSpot-RateLimit-Remaining")
        with self._lock:
            if max_calls is not None and max_calls > 0:
                interval_s = interval_ms / 1000 if interval_ms else self._limiter.window_s
                wanted = max(1, max_calls - self.margin)
                if wanted != self._limiter.max_calls or interval_s != self._limiter.window_s:
                    self._limiter = self._make(max_calls, interval_s)
            limiter = self._limiter
        if remaining is not None:
            limiter.observe_remaining(max(remaining - self.margin, 0))

    def penalize(self, seconds: float) -> None:
        with self._lock:
            limiter = self._limiter
        limiter.penalize(seconds)


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """HubSpot sends Retry-After in seconds on some routes and in ms on others (>100 = ms)."""
    raw = headers.get("Retry-After")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value / 1000 if value > 100 else value


def _policy_name(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("policyName", "")) if isinstance(body, dict) else ""


class PacedHttp:
    """Send requests through a limiter with HubSpot's retry policy; count every attempt."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        limiter: HubSpotRateLimiter | None = None,
        max_attempts: int = 6,
        base_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.client = client
        self.limiter = limiter or HubSpotRateLimiter()
        self.counters = CallCounters()
        self.max_attempts = max_attempts
        self.base_backoff_s = base_backoff_s
        self.max_backoff_s = max_backoff_s
        self._sleep = sleep
        self._rng = rng or random.Random()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Return the first non-transient response; raise on DAILY or exhausted retries."""
        retrying = Retrying(
            retry=retry_if_exception_type(TransientHttpError),
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            reraise=True,
            **({"sleep": self._sleep} if self._sleep else {}),
        )
        try:
            return retrying(self._attempt, method, url, **kwargs)
        except TransientHttpError as exc:
            raise RetriesExhausted(
                f"{method} {url} still failing after {self.max_attempts} attempts: {exc}"
            ) from None

    def _attempt(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        self.limiter.acquire()
        try:
            response = self.client.request(method, url, **kwargs)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            self.counters.count(None)
            # The exception text is the URL and reason only; headers are never included.
            raise TransientHttpError(
                f"{type(exc).__name__} on {method} {url}", status=None, retry_after_s=None
            ) from None
        self.counters.count(response.status_code)
        self.limiter.observe(response.headers)
        if response.status_code not in RETRYABLE_STATUS:
            return response
        retry_after = retry_after_seconds(response.headers)
        if response.status_code == 429:
            policy = _policy_name(response)
            if policy == "DAILY":
                raise DailyLimitExceeded(
                    "HubSpot daily API limit reached (policyName DAILY); the run stops here. "
                    "It resets at midnight in the account's time zone."
                )
            # The server's window is full whatever we believed: hold every caller briefly.
            self.limiter.penalize(retry_after if retry_after is not None else 1.0)
        raise TransientHttpError(
            f"HTTP {response.status_code} on {method} {url}",
            status=response.status_code,
            retry_after_s=retry_after,
        )

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        attempt = state.attempt_number
        backoff = min(self.max_backoff_s, self.base_backoff_s * 2 ** (attempt - 1))
        # Full jitter keeps parallel clients from retrying in lockstep.
        wait = self._rng.uniform(backoff / 2, backoff)
        if isinstance(exc, TransientHttpError):
            if exc.retry_after_s is not None:
                wait = max(wait, exc.retry_after_s)
            if exc.status == 423:
                wait = max(wait, 2.0)
            if exc.status == 429:
                # The limiter already holds callers; a short extra wait avoids a thundering retry.
                wait = min(wait, 1.0)
        return wait
