"""HubSpot CRM client for extract: a `requests` session under the shared HubSpot `HttpPolicy`.

Pacing follows HubSpot's own rate-limit headers (search has its own per-second pacer, it sends
none), 429/423/5xx/timeouts are retried within the retry budget, a DAILY 429 stops the run.
Every failure leaves as a `lmsbridge_core.errors` type.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
from requests import Response

from extract._http import policy_session
from lmsbridge_core.errors import ApiResponseError
from lmsbridge_core.http import (
    HUBSPOT,
    HUBSPOT_SEARCH_RATE,
    CallCounter,
    error_message,
    fingerprint,
    hubspot_policy,
    path_of,
    raise_for_auth,
    shared_pacer,
)
from lmsbridge_core.settings import Settings

SEARCH_RATE = HUBSPOT_SEARCH_RATE


class _Bearer(requests.auth.AuthBase):
    """Adds the token at send time; it never sits in a URL, a message or a repr."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_Bearer(***)"


class HubSpotApi:
    def __init__(self, settings: Settings, *, search_rate: tuple[int, float] = SEARCH_RATE) -> None:
        secret = settings.require_hubspot_token()
        self.base = str(settings.hubspot_base_url).rstrip("/")
        self.policy = hubspot_policy(self.base, secret, budget_s=settings.http_retry_budget_s)
        if search_rate != SEARCH_RATE:
            # Tests raise the emulator's search limit; the pacer must follow or they crawl.
            account = ("hubspot", self.base, fingerprint(secret), "search")
            self.policy.search_pacer = shared_pacer(account, *search_rate, headroom=0.0)
        self.session = policy_session(self.policy)
        self.auth = _Bearer(secret)

    @property
    def counter(self) -> CallCounter:
        return self.policy.counter

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        url = path if path.startswith("http") else f"{self.base}{path}"
        response = self.session.request(method, url, auth=self.auth, **kwargs)
        raise_for_auth(response, HUBSPOT, method, url)
        return response

    def json(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if response.status_code not in ok:
            raise ApiResponseError(
                f"HubSpot {method} {path_of(response.url)} failed: "
                f"HTTP {response.status_code}: {error_message(response)}",
                api="HubSpot",
                status=response.status_code,
            )
        try:
            return response.json()
        except ValueError:
            raise ApiResponseError(
                f"HubSpot {method} {path_of(response.url)}: response is not JSON",
                api="HubSpot",
                status=response.status_code,
            ) from None

    def paged(self, path: str, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """GET list pages following paging.next.after (absent on the last page)."""
        params = dict(params)
        while True:
            body = self.json("GET", path, params=params)
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise ApiResponseError(f"HubSpot {path}: response has no 'results' list")
            yield results
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after
