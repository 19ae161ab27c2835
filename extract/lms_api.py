"""LearnWorlds API v2 client: dlt RESTClient with LearnWorlds auth, paging, pacing and retries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import requests
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.exceptions import IgnoreResponseException
from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import Response

from extract._http import CallCounter, PacedAdapter, paced_session, shared_limiter
from extract.lms_auth import LearnWorldsAuth, _error_message
from extract.result import ExtractError
from lmsbridge_core.settings import Settings

# LearnWorlds: 30 requests per 10 s. One slot of headroom absorbs clock skew with the server.
LMS_RATE = (29, 10.0)
RETRY_STATUS = (429, 500, 502, 503, 504)


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
    def __init__(self, settings: Settings, *, rate: tuple[int, float] = LMS_RATE) -> None:
        if settings.lms_base_url is None or not settings.lms_client_id:
            raise ExtractError("LMSBRIDGE_LMS_BASE_URL and LMSBRIDGE_LMS_CLIENT_ID must be set")
        if settings.lms_client_secret is None:
            raise ExtractError("LMSBRIDGE_LMS_CLIENT_SECRET must be set")
        base = str(settings.lms_base_url).rstrip("/")
        self.counter = CallCounter()
        self.limiter = shared_limiter(("lms", base, settings.lms_client_id), *rate)
        adapter = PacedAdapter(lambda _req: self.limiter, self.counter)
        session = paced_session(adapter, status_codes=RETRY_STATUS)
        auth = LearnWorldsAuth(
            access_token_url=f"{base}/oauth2/access_token",
            client_id=settings.lms_client_id,
            client_secret=settings.lms_client_secret.get_secret_value(),
            session=session,
        )
        self.client = RESTClient(
            base_url=base,
            headers={"Lw-Client": settings.lms_client_id, "Accept": "application/json"},
            auth=auth,
            session=session,
            data_selector="data",
        )

    def pages(
        self, path: str, params: dict[str, Any] | None = None, *, missing_ok: bool = False
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list endpoint; `missing_ok` turns a 404 into no rows."""
        hooks = {"response": [_raise_for_status(missing_ok)]}
        try:
            for page in self.client.paginate(
                path, params=dict(params or {}), paginator=_EnvelopePaginator(), hooks=hooks
            ):
                yield [row for row in page if isinstance(row, dict)]
        except requests.exceptions.JSONDecodeError as exc:
            raise LmsPageError(f"{path}: response is not JSON") from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            detail = _error_message(exc.response) if exc.response is not None else str(exc)
            raise ExtractError(
                f"LearnWorlds {path} failed after retries: HTTP {status}: {detail}"
            ) from None
        except requests.RequestException as exc:
            raise ExtractError(f"LearnWorlds {path} failed: {type(exc).__name__}") from None

    def get(self, path: str, *, missing_ok: bool = False) -> dict[str, Any] | None:
        try:
            response = self.client.get(path)
        except requests.RequestException as exc:
            raise ExtractError(f"LearnWorlds {path} failed: {type(exc).__name__}") from None
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ExtractError(
                f"LearnWorlds {path} failed: HTTP {response.status_code}: {_error_message(response)}"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise LmsPageError(f"{path}: response is not JSON") from exc
        return body if isinstance(body, dict) else None


def _raise_for_status(missing_ok: bool):  # type: ignore[no-untyped-def]
    def hook(response: Response, *args: Any, **kwargs: Any) -> Response:
        if missing_ok and response.status_code == 404:
            raise IgnoreResponseException
        if response.status_code in RETRY_STATUS:
            # dlt's retry wrapper recognises HTTPError and retries it (honouring Retry-After);
            # after the last attempt it surfaces in pages() and becomes an ExtractError.
            raise requests.HTTPError(f"HTTP {response.status_code}", response=response)
        if response.status_code >= 400:
            raise ExtractError(
                f"LearnWorlds {_path(response)} failed: HTTP {response.status_code}: "
                f"{_error_message(response)}"
            )
        return response

    return hook


def _path(response: Response) -> str:
    """Path and query only: the host is configuration and never carries secrets, but keep it short."""
    url = urlparse(response.url)
    return url.path + (f"?{url.query}" if url.query else "")
