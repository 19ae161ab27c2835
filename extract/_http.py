"""One HTTP stack for every extractor: dlt's retrying session, paced and counted per send.

Pacing sits in the transport adapter, below dlt's retry wrapper, so retries and token
calls wait for a slot too and every request that reaches the server is counted once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dlt.sources.helpers.requests.retry import Client, RetryPredicate
from requests import PreparedRequest, Response, Session
from requests.adapters import HTTPAdapter

from lmsbridge_core.pacing import RollingWindowLimiter


@dataclass
class CallCounter:
    """Requests actually sent (retries included), thread-safe."""

    total: int = 0
    status_429: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, response: Response | None) -> None:
        with self._lock:
            self.total += 1
            if response is not None and response.status_code == 429:
                self.status_429 += 1


LimiterPicker = Callable[[PreparedRequest], RollingWindowLimiter | None]
ResponseObserver = Callable[[PreparedRequest, Response], None]


class PacedAdapter(HTTPAdapter):
    """Waits for a rate-limit slot before each send and reports every response."""

    def __init__(
        self,
        pick: LimiterPicker,
        counter: CallCounter,
        observe: ResponseObserver | None = None,
    ) -> None:
        super().__init__(pool_maxsize=8)
        self._pick = pick
        self._counter = counter
        self._observe = observe

    def send(self, request: PreparedRequest, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        limiter = self._pick(request)
        if limiter is not None:
            limiter.acquire()
        try:
            response = super().send(request, *args, **kwargs)  # type: ignore[arg-type]
        except Exception:
            self._counter.record(None)
            raise
        self._counter.record(response)
        if self._observe is not None:
            self._observe(request, response)
        return response


def paced_session(
    adapter: PacedAdapter,
    *,
    status_codes: Sequence[int],
    retry_condition: RetryPredicate | None = None,
    max_attempts: int = 6,
    backoff_factor: float = 1.0,
    max_retry_delay: float = 10.0,
    timeout: float = 60.0,
) -> Session:
    """A dlt retrying session (honours Retry-After) whose sends go through `adapter`."""
    client = Client(
        request_timeout=timeout,
        raise_for_status=False,
        status_codes=status_codes,
        retry_condition=retry_condition,
        request_max_attempts=max_attempts,
        request_backoff_factor=backoff_factor,
        request_max_retry_delay=max_retry_delay,
        respect_retry_after_header=True,
    )
    session = client.session
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_LIMITERS: dict[tuple[str, ...], RollingWindowLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(key: tuple[str, ...], max_calls: int, window_s: float) -> RollingWindowLimiter:
    """One limiter per API account and pace for the whole process.

    The server's window outlives a single extract run: a run that starts right after another
    must still count the previous run's calls, or its first burst draws 429s.
    """
    full_key = (*key, str(max_calls), str(window_s))
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(full_key)
        if limiter is None:
            limiter = _LIMITERS[full_key] = RollingWindowLimiter(max_calls, window_s)
        return limiter
