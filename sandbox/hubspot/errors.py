"""HubSpot's error bodies, and the handlers that make every failure use them.

Every error leaves the emulator as `{"status": "error", "message", "correlationId",
"category", ...}` with the status code the real API uses; never FastAPI's 422 or a traceback.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class HubSpotError(Exception):
    """Raised anywhere in a route; rendered as HubSpot's error body."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        context: dict[str, list[str]] | None = None,
        errors: list[dict[str, Any]] | None = None,
        sub_category: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.context = context
        self.errors = errors
        self.sub_category = sub_category
        self.extra = extra or {}

    def body(self, correlation_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id,
            "category": self.category,
        }
        if self.sub_category:
            body["subCategory"] = self.sub_category
        if self.context is not None:
            body["context"] = self.context
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def correlation_id(request: Request) -> str:
    cid = getattr(request.state, "correlation_id", None)
    if cid is None:
        cid = str(uuid.uuid4())
        request.state.correlation_id = cid
    return cid


def error_json(request: Request, error: HubSpotError) -> JSONResponse:
    return JSONResponse(error.body(correlation_id(request)), status_code=error.status)


def not_found(message: str = "resource not found") -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", message)


def validation(message: str, **kwargs: Any) -> HubSpotError:
    return HubSpotError(400, "VALIDATION_ERROR", message, **kwargs)


def batch_item_error(
    category: str,
    message: str,
    context: dict[str, list[str]],
    *,
    errors: list[dict[str, Any]] | None = None,
    sub_category: str | None = None,
) -> dict[str, Any]:
    """One entry of a 207 response's `errors` (the spec's StandardError)."""
    item: dict[str, Any] = {
        "status": "error",
        "category": category,
        "message": message,
        "context": context,
        "errors": errors or [],
        "links": {},
    }
    if sub_category:
        item["subCategory"] = sub_category
    return item


def _describe_location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


async def _on_hubspot_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HubSpotError)
    return error_json(request, exc)


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for err in exc.errors():
        where = _describe_location(tuple(err.get("loc", ())))
        if err.get("type") == "json_invalid":
            message = "Invalid input JSON: the request body could not be parsed"
        else:
            message = f"{where}: {err.get('msg', 'invalid value')}"
        details.append({"message": message, "in": where, "code": "INVALID_INPUT"})
    summary = "Invalid input: " + "; ".join(d["message"] for d in details)
    return error_json(request, validation(summary, errors=details))


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        err = HubSpotError(404, "OBJECT_NOT_FOUND", "resource not found")
    elif exc.status_code == 405:
        err = HubSpotError(
            405, "METHOD_NOT_ALLOWED", f"Method {request.method} not allowed for this path"
        )
    else:
        err = HubSpotError(exc.status_code, "ERROR", str(exc.detail))
    return error_json(request, err)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # A bug in the emulator still answers like HubSpot's 500, never with a traceback.
    err = HubSpotError(500, "INTERNAL_ERROR", "internal error")
    return error_json(request, err)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HubSpotError, _on_hubspot_error)
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
