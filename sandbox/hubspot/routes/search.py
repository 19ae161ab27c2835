"""`POST /crm/v3/objects/{type}/search`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ..errors import validation
from ..gateway import GatedRoute
from ..render import render
from ..search import MAX_BODY_CHARS, SearchRequest, run_search
from ..state import portal
from .common import object_type_or_400, require_object_scope

router = APIRouter(route_class=GatedRoute)


@router.post("/crm/v3/objects/{object_type}/search")
async def search_objects(request: Request, object_type: str) -> dict[str, Any]:
    ot = object_type_or_400(object_type)
    require_object_scope(request, ot, write=False)
    raw = await request.body()
    text = raw.decode("utf-8", errors="replace")
    if len(text) > MAX_BODY_CHARS:
        raise validation(
            f"The request body may be at most {MAX_BODY_CHARS} characters; got {len(text)}"
        )
    try:
        req = SearchRequest.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    p = portal(request)

    def work() -> dict[str, Any]:
        with p.store.lock:
            total, page, next_offset = run_search(p.store, ot.name, req)
            body: dict[str, Any] = {
                "total": total,
                "results": [render(p.store, ot.name, rec, req.properties) for rec in page],
            }
        if next_offset is not None:
            # Search paging is an offset and has no `link` (the request is a POST).
            body["paging"] = {"next": {"after": str(next_offset)}}
        return body

    return await run_in_threadpool(work)
