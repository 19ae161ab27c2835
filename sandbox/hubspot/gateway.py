"""Auth, rate limiting and HubSpot's response headers for every /crm route."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from starlette.middleware.base import BaseHTTPMiddleware

from .errors import HubSpotError, correlation_id
from .ratelimit import Decision
from .state import Portal, portal

_NO_CREDENTIALS = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_BAD_TOKEN = (
    "Authentication credentials are invalid. Check that the private app access token is "
    "correct and has not been rotated or deleted."
)
_URI_TOO_LONG = (
    "<html><head><title>414 Request-URI Too Large</title></head><body>"
    "<center><h1>414 Request-URI Too Large</h1></center></body></html>"
)
_LIMIT_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


def rate_limit_body(policy: str, correlation_id: str) -> dict[str, str]:
    return {
        "status": "error",
        "message": _LIMIT_MESSAGES[policy],
        "errorType": "RATE_LIMIT",
        "correlationId": correlation_id,
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
    }


def _rate_headers(decision: Decision) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Daily": str(decision.daily),
        "X-HubSpot-RateLimit-Daily-Remaining": str(decision.daily_remaining),
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(decision.interval_ms),
        "X-HubSpot-RateLimit-Max": str(decision.max),
        "X-HubSpot-RateLimit-Remaining": str(decision.remaining),
    }


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def require_scopes(request: Request, *accepted: str) -> None:
    """403 MISSING_SCOPES unless the token holds one of the accepted scopes."""
    granted = portal(request).scopes
    if granted is None or any(s in granted for s in accepted):
        return
    raise HubSpotError(
        403,
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. "
        "Read more about required scopes here: https://developers.hubspot.com/scopes.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(accepted)},
            }
        ],
    )


def _is_search(request: Request) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/").endswith("/search")


def _refusal(request: Request) -> Response | None:
    """Authenticate and count one call; a 401 or 429 response if it is refused."""
    p: Portal = portal(request)
    cid = correlation_id(request)
    token = bearer_token(request)
    if token is None or (p.tokens is not None and token not in p.tokens):
        err = HubSpotError(
            401, "INVALID_AUTHENTICATION", _NO_CREDENTIALS if token is None else _BAD_TOKEN
        )
        return JSONResponse(err.body(cid), status_code=401)
    search = _is_search(request)
    decision = p.limiter.check(token, search=search)
    # Search answers carry no rate-limit headers at all, even on its 429.
    if not search:
        request.state.rate_headers = _rate_headers(decision)
    if not decision.allowed:
        assert decision.policy is not None
        return JSONResponse(rate_limit_body(decision.policy, cid), status_code=429)
    return None


class GatedRoute(APIRoute):
    """Routes that authenticate and rate-limit after routing but before the body is parsed.

    Running after routing lets the control plane count refused calls under their route.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def gated(request: Request) -> Response:
            refused = _refusal(request)
            if refused is not None:
                return refused
            return await handler(request)

        return gated


class GatewayMiddleware(BaseHTTPMiddleware):
    """Adds the correlation id and rate-limit headers to every answer, errors included."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        cid = correlation_id(request)
        if len(str(request.url)) > portal(request).config.max_url_chars:
            # Refused at the edge: an HTML page, no JSON body, no rate-limit headers.
            return HTMLResponse(_URI_TOO_LONG, status_code=414)
        response = await call_next(request)
        response.headers.update(getattr(request.state, "rate_headers", {}))
        response.headers["X-HubSpot-Correlation-Id"] = cid
        return response
