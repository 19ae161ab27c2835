"""Helpers every object route uses: resolving the type, scopes, batch envelopes."""

from __future__ import annotations

from typing import Any

from fastapi import Request

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
    suffix = "write" if write else "read"
    require_scopes(request, f"crm.objects.{ot.scope}.{suffix}")


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


def written(request: Request, count: int) -> None:
    request.state.records_written = count
