"""HubSpot CRM client on dlt's retrying session, paced by HubSpot's own rate-limit headers.

Search has its own per-second limit and sends no rate-limit headers, so it gets a separate
fixed limiter; every other call follows X-HubSpot-RateLimit-Max/Interval/Remaining. A 429 with
policyName DAILY is not retried: nothing will succeed until the daily window resets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import requests
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from requests import PreparedRequest, Response

from extract._http import CallCounter, PacedAdapter, paced_session, shared_limiter
from extract.result import ExtractError
from lmsbridge_core.pacing import RollingWindowLimiter
from lmsbridge_core.settings import Settings

SEARCH_RATE = (4, 1.0)
DEFAULT_RATE = (90, 10.0)  # Free/Starter burst is 100 / 10 s; keep headroom until headers say more
RETRY_STATUS = (423, 500, 502, 503, 504, 524)
MAX_PROPS_CHARS = 2000


class HubSpotDailyLimitError(ExtractError):
    pass


def _policy(response: Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("policyName") if isinstance(body, dict) else None


def _retry_429(response: Response | None, exc: BaseException | None) -> bool:
    return response is not None and response.status_code == 429 and _policy(response) != "DAILY"


def _is_search(request: PreparedRequest) -> bool:
    return urlparse(request.url or "").path.endswith("/search")


def error_message(response: Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("category") or body)[:300]
    return str(body)[:300]


def chunk_properties(names: list[str], limit: int = MAX_PROPS_CHARS) -> list[list[str]]:
    """Split a property list so each comma-joined chunk stays under `limit` characters."""
    chunks: list[list[str]] = [[]]
    size = 0
    for name in names:
        extra = len(name) + (1 if chunks[-1] else 0)
        if chunks[-1] and size + extra > limit:
            chunks.append([])
            size, extra = 0, len(name)
        chunks[-1].append(name)
        size += extra
    return [c for c in chunks if c]


class HubSpotApi:
    def __init__(self, settings: Settings, *, search_rate: tuple[int, float] = SEARCH_RATE) -> None:
        token = settings.hubspot_access_token
        if token is None or not token.get_secret_value():
            raise ExtractError("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN must be set")
        self.base = str(settings.hubspot_base_url).rstrip("/")
        self.counter = CallCounter()
        # Limits are per account/app: key the shared limiters by host and a token fingerprint.
        self._account = (
            self.base,
            hashlib.sha256(token.get_secret_value().encode()).hexdigest()[:16],
        )
        self.search_limiter = shared_limiter(("hubspot-search", *self._account), *search_rate)
        self.limiter = shared_limiter(("hubspot", *self._account), *DEFAULT_RATE)
        self._limit_key: tuple[int, float] | None = None
        adapter = PacedAdapter(self._pick, self.counter, self._observe)
        self.session = paced_session(
            adapter, status_codes=RETRY_STATUS, retry_condition=_retry_429, max_retry_delay=12.0
        )
        self.auth = BearerTokenAuth(token=token.get_secret_value())

    def _pick(self, request: PreparedRequest) -> RollingWindowLimiter:
        return self.search_limiter if _is_search(request) else self.limiter

    def _observe(self, request: PreparedRequest, response: Response) -> None:
        if response.status_code == 429:
            limiter = self._pick(request)
            limiter.penalize(1.0 if _is_search(request) else limiter.window_s / 2)
            return
        headers = response.headers
        try:
            max_calls = int(headers["X-HubSpot-RateLimit-Max"])
            interval = int(headers["X-HubSpot-RateLimit-Interval-Milliseconds"]) / 1000
        except (KeyError, ValueError):
            return
        if (max_calls, interval) != self._limit_key and max_calls > 0 and interval > 0:
            # Keep ~10% headroom: other apps on the same account share the window.
            self._limit_key = (max_calls, interval)
            self.limiter = shared_limiter(
                ("hubspot", *self._account), max(1, int(max_calls * 0.9)), interval
            )
        remaining = headers.get("X-HubSpot-RateLimit-Remaining")
        if remaining is not None and remaining.lstrip("-").isdigit():
            self.limiter.observe_remaining(int(remaining) - (max_calls - self.limiter.max_calls))

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        url = path if path.startswith("http") else f"{self.base}{path}"
        try:
            response = self.session.request(method, url, auth=self.auth, **kwargs)
        except requests.RequestException as exc:
            raise ExtractError(
                f"HubSpot {method} {urlparse(url).path} failed: {type(exc).__name__}"
            ) from exc
        if response.status_code == 429 and _policy(response) == "DAILY":
            raise HubSpotDailyLimitError(
                "HubSpot daily API limit reached (policyName DAILY); stopping until it resets"
            )
        return response

    def json(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code not in ok:
            raise ExtractError(
                f"HubSpot {method} {urlparse(response.url).path} failed: "
                f"HTTP {response.status_code}: {error_message(response)}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ExtractError(
                f"HubSpot {urlparse(response.url).path}: response is not JSON"
            ) from exc

    def paged(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """GET list pages following paging.next.after (absent on the last page)."""
        params = dict(params)
        while True:
            body = self.json("GET", path, params=params)
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise ExtractError(f"HubSpot {path}: response has no 'results' list")
            yield results
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after
