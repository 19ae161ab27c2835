"""Helpers every object route uses: resolving the type, scopes, batch envelopes, paging."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from ..clock import now_iso
from ..errors import validation
from ..gateway import require_scopes
from ..objecttypes import ObjectType, resolve

MAX_BATCH = 100


def object_type_or_400(name: str) -> ObjectType:
    ot = resolve(name)
    if ot is None:
        raise validation(f"Unable to infer object type from: {name}")
    return ot


def require_object_scope(request: Request, ot: ObjectType, write: bool) -> None:
    require_scopes(request, *ot.scopes(write))


def check_batch_size(count: int, limit: int = MAX_BATCH) -> None:
    if count > limit:
        raise validation(
            f"The maximum number of inputs supported in a batch is {limit}. Please reduce "
            "the number of items and try again"
        )


def batch_envelope(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": now_iso(),
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = errors
    return body


def batch_response(
    results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str, ok_status: int = 200
) -> JSONResponse:
    # HubSpot answers 207 Multi-Status as soon as any single input failed.
    return JSONResponse(
        batch_envelope(results, errors, started), status_code=207 if errors else ok_status
    )


def paging_start(limit: int, after: str | None, max_limit: int) -> int:
    """Check `limit` and the numeric `after` cursor; the cursor as an int, 0 when absent."""
    if limit < 1 or limit > max_limit:
        raise validation(f"limit must be between 1 and {max_limit}, got {limit}")
    if not after:
        return 0
    if not after.isdigit():
        raise validation(f"Invalid paging cursor after={after!r}")
    return int(after)


def written(request: Request, count: int) -> None:
    request.state.records_written = count
