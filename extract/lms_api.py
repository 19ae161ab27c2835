"""LearnWorlds API v2 client: dlt RESTClient with LearnWorlds auth and paging, on a `requests`
session under the shared LearnWorlds `HttpPolicy` (pace from settings, retries with a time
budget, typed errors)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import Response

from extract._http import policy_session
from extract.lms_auth import LearnWorldsAuth
from extract.result import ExtractError
from lmsbridge_core.http import (
    LEARNWORLDS,
    CallCounter,
    error_message,
    learnworlds_policy,
    raise_for_auth,
)
from lmsbridge_core.settings import Settings


class LmsPageError(ExtractError):
    """A list response that is not the documented {data: [...], meta: {totalPages}} envelope."""


class _EnvelopePaginator(PageNumberPaginator):
    """Stops on meta.totalPages (a page past the end repeats the last one) and checks the shape."""

    def __init__(self) -> None:
        super().__init__(base_page=1, page_param="page", total_path="meta.totalPages")

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise LmsPageError(f"{_path(response)}: response has no 'data' list")
        if not isinstance(meta, dict) or not isinstance(meta.get("totalPages"), int):
            raise LmsPageError(f"{_path(response)}: response has no integer meta.totalPages")
        super().update_state(response, data)


class LmsApi:
    def __init__(self, settings: Settings, *, rate: tuple[int, float] | None = None) -> None:
        base, client_id, client_secret = settings.require_lms_api()
        pace = rate or (settings.lms_rate_calls, settings.lms_rate_window_s)
        self.policy = learnworlds_policy(
            base, client_id, rate=pace, budget_s=settings.http_retry_budget_s
        )
        session = policy_session(self.policy)
        auth = LearnWorldsAuth(
            access_token_url=f"{base}/oauth2/access_token",
            client_id=client_id,
            client_secret=client_secret,
            session=session,
        )
        self.client = RESTClient(
            base_url=base,
            headers={"Lw-Client": client_id, "Accept": "application/json"},
            auth=auth,
            session=session,
            data_selector="data",
        )

    @property
    def counter(self) -> CallCounter:
        return self.policy.counter

    def pages(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        missing_ok: bool = False,
        on_missing: Callable[[], None] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list endpoint; `missing_ok` turns a 404 into no rows, and
        `on_missing` is told about it (a deleted learner is only visible that way)."""
        hooks = {"response": [_raise_for_status(missing_ok, on_missing)]}
        try:
            for page in self.client.paginate(
                path, params=dict(params or {}), paginator=_EnvelopePaginator(), hooks=hooks
            ):
                yield [row for row in page if isinstance(row, dict)]
        except requests.exceptions.JSONDecodeError:
            raise LmsPageError(f"{path}: response is not JSON", api=LEARNWORLDS.name) from None

    def get(
        self,
        path: str,
        *,
        missing_ok: bool = False,
        on_missing: Callable[[], None] | None = None,
    ) -> dict[str, Any] | None:
        """One object; with `missing_ok` a 404 is None and `on_missing` is told about it."""
        response = self.client.get(path)
        if missing_ok and response.status_code == 404:
            if on_missing is not None:
                on_missing()
            return None
        _check(response)
        try:
            body = response.json()
        except ValueError:
            raise LmsPageError(f"{path}: response is not JSON", api=LEARNWORLDS.name) from None
        return body if isinstance(body, dict) else None


def _check(response: Response) -> None:
    method = response.request.method if response.request is not None else "GET"
    raise_for_auth(response, LEARNWORLDS, method or "GET", response.url)
    if response.status_code >= 400:
        raise ExtractError(
            f"LearnWorlds {_path(response)} failed: HTTP {response.status_code}: "
            f"{error_message(response)}",
            api=LEARNWORLDS.name,
            status=response.status_code,
        )


def _raise_for_status(missing_ok: bool, on_missing: Callable[[], None] | None):  # type: ignore[no-untyped-def]
    def hook(response: Response, *args: Any, **kwargs: Any) -> Response:
        if missing_ok and response.status_code == 404:
            if on_missing is not None:
                on_missing()
            raise IgnoreResponseException
        # Retryable statuses never get here: the policy retried them or raised TransientError.
        _check(response)
        return response

    return hook


def _path(response: Response) -> str:
    """Path only: the host is configuration and query strings are not worth repeating."""
    return urlparse(response.url).path
