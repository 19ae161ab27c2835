"""One HTTP policy per API, shared by every client in the process.

What every call to HubSpot or LearnWorlds goes through, whichever HTTP library sent it
(dlt's `requests` session in extract, `httpx` in reverse ETL):

- one pacer per API account (base URL + credential fingerprint), so extract, reverse ETL
  and the coming LMS writes see each other's calls on one token; HubSpot's pacer adopts the
  server's `X-HubSpot-RateLimit-*` headers;
- one `Retry-After` parser, one error-body parser, one call counter;
- one retry policy with a total time budget: 429 (but not DAILY), 423, 5xx and timeouts are
  retried inside the call until the budget is spent, then surface as `TransientError` so the
  flow's task retry fires. A 429 storm slows a run down and never fails it while the budget
  lasts.

Every failure leaves as a type from `lmsbridge_core.errors`; messages carry the method and
path only, never headers, query strings or bodies we sent.
"""

from __future__ import annotations

import email.utils
import hashlib
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from lmsbridge_core.errors import (
    AuthenticationError,
    ConfigurationError,
    QuotaExhaustedError,
    TransientError,
    UnreachableError,
)
from lmsbridge_core.pacing import RollingWindowLimiter


class Response(Protocol):
    """What both `requests.Response` and `httpx.Response` offer."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


R = TypeVar("R", bound=Response)


@dataclass(frozen=True)
class ApiProfile:
    """The facts about one API that the policy needs (see ../shared/reference)."""

    name: str
    retry_statuses: frozenset[int]
    default_rate: tuple[int, float]
    credentials_hint: str
    # HubSpot: at least this long after a 423 Locked (its docs say >= 2 s).
    min_wait_by_status: Mapping[int, float] = field(default_factory=dict)
    adopts_rate_headers: bool = False


HUBSPOT = ApiProfile(
    name="HubSpot",
    retry_statuses=frozenset({423, 429, 477, 500, 502, 503, 504, 524}),
    default_rate=(100, 10.0),
    credentials_hint="check LMSBRIDGE_HUBSPOT_ACCESS_TOKEN and its scopes",
    min_wait_by_status={423: 2.0},
    adopts_rate_headers=True,
)
# Search has its own 5/s per account and sends no rate headers: keep one slot of headroom.
HUBSPOT_SEARCH_RATE = (4, 1.0)
LEARNWORLDS = ApiProfile(
    name="LearnWorlds",
    retry_statuses=frozenset({429, 500, 502, 503, 504}),
    default_rate=(29, 10.0),
    credentials_hint="check LMSBRIDGE_LMS_CLIENT_ID / LMSBRIDGE_LMS_CLIENT_SECRET",
)


def fingerprint(secret: str) -> str:
    """A short, irreversible key for a credential: limits are per token, logs never see it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


# --- parsing -------------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait, from a `Retry-After` header; None when absent or unreadable.

    RFC 9110 allows delay-seconds or an HTTP date. HubSpot sends milliseconds on some routes,
    and its guidance is to read values over 100 as milliseconds; no API we call asks for a
    wait of more than 100 s in seconds.
    """
    if value is None or not value.strip():
        return None
    raw = value.strip()
    try:
        number = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    if number != number or number < 0:  # NaN or negative: ignore
        return None
    return number / 1000 if number > 100 else number


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


def response_body(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def body_message(body: Any, limit: int = 300) -> str:
    """The human message of a decoded error body, for every shape HubSpot and LearnWorlds send.

    HubSpot: `{status, message, category, errors: [{message}]}`; LearnWorlds:
    `{errors: [{code, context, message}]}`, `{error: "..."}`, `{message: "..."}`.
    Every field is optional, so nothing here assumes one is present.
    """
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str) and message:
            category = body.get("category")
            return (f"{category}: {message}" if category else message)[:limit]
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message") or errors[0])[:limit]
        error = body.get("error")
        if error:
            description = body.get("error_description")
            return (f"{error}: {description}" if description else str(error))[:limit]
        return str(body)[:limit]
    return "" if body is None else str(body)[:limit]


def error_message(response: Response, limit: int = 300) -> str:
    """`body_message` of a response, or its text when the body is not JSON."""
    body = response_body(response)
    if body is not None:
        return body_message(body, limit)
    try:
        return response.text.strip()[:limit] or f"HTTP {response.status_code}"
    except Exception:
        # A body we cannot even decode is not worth failing over: the status says enough.
        return f"HTTP {response.status_code}"


def policy_name(response: Response) -> str:
    body = response_body(response)
    return str(body.get("policyName", "")) if isinstance(body, dict) else ""


def path_of(url: str) -> str:
    """Path only: hosts are configuration, query strings may carry anything."""
    return urlsplit(url).path or url


# --- pacing --------------------------------------------------------------------------------


class Pacer:
    """A rolling-window limiter whose size follows the server's rate headers when it sends them.

    `headroom` is left unused: the server stamps a call on arrival, a little after we stamp it
    on departure, and other apps on the same account share the window.
    """

    def __init__(self, max_calls: int, window_s: float, *, headroom: float = 0.0) -> None:
        self.headroom = headroom
        self._lock = threading.Lock()
        self._server_max = max_calls
        self._limiter = RollingWindowLimiter(self._usable(max_calls), window_s)

    def _usable(self, server_max: int) -> int:
        if self.headroom <= 0:
            return max(1, server_max)
        return max(1, server_max - max(2, int(server_max * self.headroom)))

    @property
    def max_calls(self) -> int:
        return self._limiter.max_calls

    @property
    def window_s(self) -> float:
        return self._limiter.window_s

    def acquire(self) -> float:
        with self._lock:
            limiter = self._limiter
        return limiter.acquire()

    def penalize(self, seconds: float) -> None:
        with self._lock:
            limiter = self._limiter
        limiter.penalize(seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adopt `X-HubSpot-RateLimit-Max/-Interval-Milliseconds/-Remaining` when present."""
        max_calls = _int_header(headers, "X-HubSpot-RateLimit-Max")
        interval_ms = _int_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds")
        remaining = _int_header(headers, "X-HubSpot-RateLimit-Remaining")
        with self._lock:
            if max_calls is not None and max_calls > 0:
                window = interval_ms / 1000 if interval_ms and interval_ms > 0 else None
                window = window or self._limiter.window_s
                if max_calls != self._server_max or window != self._limiter.window_s:
                    self._server_max = max_calls
                    self._limiter = RollingWindowLimiter(self._usable(max_calls), window)
            limiter, slack = self._limiter, self._server_max - self._limiter.max_calls
        if remaining is not None:
            limiter.observe_remaining(max(remaining - slack, 0))


_PACERS: dict[tuple[str, ...], Pacer] = {}
_PACERS_LOCK = threading.Lock()


def shared_pacer(key: tuple[str, ...], max_calls: int, window_s: float, headroom: float) -> Pacer:
    """One pacer per API account and kind for the whole process.

    The server's window outlives a single step: a sync right after an extract on the same
    token must count the extract's calls, or its first burst draws 429s. An explicit pace
    (a setting) is part of the key so a changed setting takes effect.
    """
    full_key = (*key, str(max_calls), str(window_s), str(headroom))
    with _PACERS_LOCK:
        pacer = _PACERS.get(full_key)
        if pacer is None:
            pacer = _PACERS[full_key] = Pacer(max_calls, window_s, headroom=headroom)
        return pacer


# --- counting ------------------------------------------------------------------------------


@dataclass
class CallCounter:
    """Requests that reached (or tried to reach) the server, retries included; thread-safe."""

    calls: int = 0
    status_429: int = 0
    retries: int = 0
    waited_s: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, status: int | None) -> None:
        with self._lock:
            self.calls += 1
            if status == 429:
                self.status_429 += 1

    def record_retry(self, wait_s: float) -> None:
        with self._lock:
            self.retries += 1
            self.waited_s += wait_s


# --- the policy ----------------------------------------------------------------------------


def _transport_kind(exc: BaseException) -> str | None:
    """'connect' (never reached the server), 'transient' (timeout, reset), 'header' (a value
    we tried to send is not a valid header) or None (not a transport problem)."""
    import http.client

    import httpx
    import requests

    if isinstance(exc, httpx.LocalProtocolError | requests.exceptions.InvalidHeader):
        return "header"
    if isinstance(exc, ValueError) and "header" in str(exc).lower():
        # http.client.putheader: "Invalid header value b'Bearer ...'".
        return "header"
    if isinstance(exc, http.client.HTTPException) and "header" in str(exc).lower():
        return "header"
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return "connect"
    if isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
        return "transient"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connect"
    if isinstance(exc, requests.exceptions.ConnectionError):
        # requests reports a refused connection and a dropped one with the same type; the
        # urllib3 reason tells them apart.
        from urllib3.exceptions import NameResolutionError, NewConnectionError

        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError | NameResolutionError):
            return "connect"
        return "transient"
    if isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ChunkedEncodingError):
        return "transient"
    return None


@dataclass
class HttpPolicy:
    """Pace, send, classify and retry one API's calls; see the module docstring."""

    profile: ApiProfile
    pacer: Pacer
    budget_s: float = 180.0
    counter: CallCounter = field(default_factory=CallCounter)
    search_pacer: Pacer | None = None
    base_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    # A host that refused every attempt this many times is down or mistyped, not busy.
    connect_attempts: int = 3
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def pacer_for(self, path: str) -> Pacer:
        if self.search_pacer is not None and path.endswith("/search"):
            return self.search_pacer
        return self.pacer

    def send(self, method: str, url: str, attempt: Callable[[], R]) -> R:
        """Run `attempt` (one HTTP request) until it returns a non-retryable response.

        Returns any response that is not retryable (2xx, 4xx other than 429/423); raises
        QuotaExhaustedError on a DAILY 429, TransientError when the budget is spent and
        UnreachableError when the host never answered.
        """
        path = path_of(url)
        pacer = self.pacer_for(path)
        started = self.clock()
        tries = 0
        throttled = 0
        connected = False
        while True:
            tries += 1
            pacer.acquire()
            try:
                response = attempt()
            except Exception as exc:
                kind = _transport_kind(exc)
                if kind == "header":
                    # The library's own text quotes the header, credential included.
                    raise ConfigurationError(
                        f"{self.profile.name} {method} {path}: a credential is not a valid "
                        f"HTTP header value ({type(exc).__name__}); {self.profile.credentials_hint}"
                    ) from None
                if kind is None:
                    raise
                self.counter.record(None)
                connected = connected or kind != "connect"
                if kind == "connect" and not connected and tries >= self.connect_attempts:
                    raise UnreachableError(
                        f"{self.profile.name} {method} {path}: cannot connect "
                        f"({type(exc).__name__}) after {tries} attempts",
                        api=self.profile.name,
                    ) from None
                wait = self._backoff(tries)
                reason = type(exc).__name__
                status: int | None = None
                retry_after: float | None = None
            else:
                connected = True
                status = response.status_code
                self.counter.record(status)
                if self.profile.adopts_rate_headers:
                    pacer.observe(response.headers)
                if status not in self.profile.retry_statuses:
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if status == 429:
                    if policy_name(response) == "DAILY":
                        raise QuotaExhaustedError(
                            f"{self.profile.name} daily API limit reached (policyName DAILY) on "
                            f"{method} {path}; the run stops here. It resets at midnight in "
                            "the account's time zone.",
                            api=self.profile.name,
                        )
                    # The server's window is full whatever we believed: hold every caller.
                    throttled += 1
                    hold = retry_after if retry_after is not None else self._hold(pacer, throttled)
                    pacer.penalize(hold)
                wait = self._wait_for(status, tries, retry_after)
                reason = f"HTTP {status}"
            elapsed = self.clock() - started
            if elapsed + wait > self.budget_s:
                raise TransientError(
                    f"{self.profile.name} {method} {path}: still failing ({reason}) after "
                    f"{tries} attempts in {elapsed:.0f} s (retry budget {self.budget_s:.0f} s)",
                    api=self.profile.name,
                    status=status,
                    retry_after_s=retry_after,
                )
            self.counter.record_retry(wait)
            self.sleep(wait)

    @staticmethod
    def _hold(pacer: Pacer, throttled: int) -> float:
        # Without Retry-After: 1, 2, 4 ... s, up to the whole window (HubSpot's advice for a
        # burst 429 is to wait out the window; a short first hold keeps a lone 429 cheap).
        return float(min(pacer.window_s, 2 ** (throttled - 1)))

    def _backoff(self, tries: int) -> float:
        backoff = min(self.max_backoff_s, self.base_backoff_s * 2 ** (tries - 1))
        # Full jitter keeps parallel clients from retrying in lockstep.
        return self.rng.uniform(backoff / 2, backoff)

    def _wait_for(self, status: int, tries: int, retry_after: float | None) -> float:
        if status == 429:
            # The pacer already holds every caller for the window; retry right after it.
            return min(self._backoff(tries), 1.0)
        wait = self._backoff(tries)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return max(wait, self.profile.min_wait_by_status.get(status, 0.0))


def raise_for_auth(response: Response, profile: ApiProfile, method: str, url: str) -> None:
    """401/403 mean the credentials are wrong or lack a scope; no retry can fix that."""
    if response.status_code in (401, 403):
        raise AuthenticationError(
            f"{profile.name} refused {method} {path_of(url)}: HTTP {response.status_code} "
            f"{error_message(response, 160)} ({profile.credentials_hint})",
            api=profile.name,
            status=response.status_code,
        )


def hubspot_policy(
    base_url: str, token: str, *, budget_s: float, counter: CallCounter | None = None
) -> HttpPolicy:
    """The policy for one HubSpot token: its shared pacers, a fresh (or given) counter."""
    account = ("hubspot", base_url.rstrip("/"), fingerprint(token))
    return HttpPolicy(
        profile=HUBSPOT,
        # 10% headroom (at least 2): other apps on the account share the burst window.
        pacer=shared_pacer(account, *HUBSPOT.default_rate, headroom=0.1),
        search_pacer=shared_pacer((*account, "search"), *HUBSPOT_SEARCH_RATE, headroom=0.0),
        budget_s=budget_s,
        counter=counter or CallCounter(),
    )


def learnworlds_policy(
    base_url: str,
    client_id: str,
    *,
    rate: tuple[int, float],
    budget_s: float,
    counter: CallCounter | None = None,
) -> HttpPolicy:
    """The policy for one LearnWorlds school and client: the pace is a setting."""
    account = ("learnworlds", base_url.rstrip("/"), fingerprint(client_id))
    return HttpPolicy(
        profile=LEARNWORLDS,
        pacer=shared_pacer(account, *rate, headroom=0.0),
        budget_s=budget_s,
        counter=counter or CallCounter(),
    )
