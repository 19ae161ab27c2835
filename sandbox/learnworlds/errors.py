"""The real API's error bodies, which differ by status.

400/401/403/422 use `{"errors": [{"code", "context", "message"}], "success": false}`;
404/429/500 (and the spec's ad-hoc 4xx validation messages) use `{"error": "..."}`.
The one exception is a write that fails the school's sign-up validation rules
(`signup_validation_rules: true`): 422 in the spec's "Validation Failed" shape,
`{"statusCode": 422, "error": "Validation Failed", "message": ..., "errors": {field: [{"0": msg}]}}`
(the spec's own example is a sign-up rule: "The 'Company' field is required.").
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

NOT_FOUND = "Sorry the resource your trying to access does not exist."
TOO_MANY = "Too many requests"
SERVER_ERROR = "Server Error"
CLIENT_NOT_FOUND = "Missing client_id or client cannot be found."
ACCESS_DENIED = "The resource owner or authorization server denied the request."
VALIDATION_MESSAGE = "Your input had some validation errors."

_ERRORS_SHAPE = {400, 401, 403, 422}


class LearnWorldsError(Exception):
    """Raised by route code; rendered in the shape the real API uses for its status."""

    def __init__(self, status: int, message: str, context: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.context = context


class PlainError(LearnWorldsError):
    """A 4xx the spec shows as a bare `{"error": ...}` (e.g. missing required query filters)."""


class SignupValidationError(Exception):
    """Sign-up rule failures, by field key; rendered in the spec's "Validation Failed" shape."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        super().__init__(VALIDATION_MESSAGE)
        self.problems = problems


def signup_validation_body(problems: dict[str, list[str]]) -> dict[str, Any]:
    # Guess: a field with several failures lists one `{"0": message}` object per failure
    # (the spec's example only shows one).
    return {
        "statusCode": 422,
        "error": "Validation Failed",
        "message": VALIDATION_MESSAGE,
        "errors": {name: [{"0": m} for m in messages] for name, messages in problems.items()},
    }


def errors_body(status: int, message: str, context: str | None = None) -> dict[str, Any]:
    return {
        "errors": [{"code": str(status), "context": context, "message": message}],
        "success": False,
    }


def error_response(status: int, message: str, context: str | None = None) -> JSONResponse:
    if status in _ERRORS_SHAPE:
        return JSONResponse(errors_body(status, message, context), status_code=status)
    return JSONResponse({"error": message}, status_code=status)


def server_error_response(status: int = 500) -> JSONResponse:
    return JSONResponse({"error": SERVER_ERROR}, status_code=status)


def rate_limited_response() -> JSONResponse:
    return JSONResponse({"error": TOO_MANY}, status_code=429)


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    problems = list(exc.errors())
    # Unparseable bodies are a 400 on the real API; well-formed but wrong values are a 422.
    status = 400 if any(p.get("type") == "json_invalid" for p in problems) else 422
    errors = [
        {
            "code": str(status),
            "context": ".".join(str(part) for part in p.get("loc", ()) if part != "body") or None,
            "message": str(p.get("msg", "Invalid value")),
        }
        for p in problems
    ]
    return JSONResponse({"errors": errors, "success": False}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves in a LearnWorlds shape; nothing leaks a traceback."""

    async def on_lw_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, LearnWorldsError)
        if isinstance(exc, PlainError):
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return error_response(exc.status, exc.message, exc.context)

    async def on_signup_rules(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SignupValidationError)
        return JSONResponse(signup_validation_body(exc.problems), status_code=422)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return error_response(404, NOT_FOUND)
        return error_response(exc.status_code, str(exc.detail))

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return _validation_response(exc)

    async def on_unexpected(_: Request, __: Exception) -> JSONResponse:
        return server_error_response()

    app.add_exception_handler(LearnWorldsError, on_lw_error)
    app.add_exception_handler(SignupValidationError, on_signup_rules)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Exception, on_unexpected)
