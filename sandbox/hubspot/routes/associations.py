"""Associations v4: batch read/create/archive, per-record list, single put/delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from ..associations import ASSOC_TYPES, DEFAULT_TYPE, label_definitions, v4_label
from ..clock import now_iso
from ..errors import batch_item_error, not_found, validation
from ..gateway import GatedRoute
from ..models import AssocArchiveBody, AssocCreateBody, AssociationTypeSpec, AssocReadBody, as_id
from ..objecttypes import ObjectType
from ..state import Portal, portal
from .common import (
    batch_envelope,
    batch_response,
    check_batch_size,
    object_type_or_400,
    paging_start,
    require_object_scope,
    written,
)

router = APIRouter(route_class=GatedRoute)
MAX_READ = 1000
MAX_CREATE = 2000
PAGE = 500


def _types(
    request: Request, from_type: str, to_type: str, write: bool
) -> tuple[ObjectType, ObjectType]:
    src, dst = object_type_or_400(from_type), object_type_or_400(to_type)
    require_object_scope(request, src, write=write)
    return src, dst


def _edge_items(
    p: Portal, src: ObjectType, record_id: str, dst: ObjectType
) -> list[dict[str, Any]]:
    targets = p.store.assoc.targets(src.name, record_id, dst.name)
    return [
        {
            # Real responses send toObjectId as a JSON number (the spec says string).
            "toObjectId": int(to_id),
            "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": tid, "label": v4_label(tid)}
                for tid in sorted(targets[to_id])
            ],
        }
        for to_id in sorted(targets, key=int)
    ]


def _check_type(src: ObjectType, dst: ObjectType, spec: AssociationTypeSpec) -> str | None:
    atype = ASSOC_TYPES.get(spec.associationTypeId)
    if atype is None or (atype.from_type, atype.to_type) != (src.name, dst.name):
        return (
            f"{spec.associationCategory} {spec.associationTypeId} is not a valid association "
            f"type between {src.singular} and {dst.singular}"
        )
    return None


@router.post("/crm/v4/associations/{from_type}/{to_type}/batch/read")
def batch_read(request: Request, from_type: str, to_type: str, body: AssocReadBody) -> JSONResponse:
    src, dst = _types(request, from_type, to_type, write=False)
    started = now_iso()
    inputs = body.inputs or []
    check_batch_size(len(inputs), MAX_READ)
    p = portal(request)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    with p.store.lock:
        for inp in inputs:
            record_id = as_id(inp.id)
            items = _edge_items(p, src, record_id, dst)
            start = int(inp.after) if inp.after and inp.after.isdigit() else 0
            page = items[start : start + PAGE]
            if not page:
                errors.append(
                    batch_item_error(
                        "OBJECT_NOT_FOUND",
                        f"No {dst.singular} is associated with {src.singular} {record_id}.",
                        {
                            "fromObjectId": [record_id],
                            "fromObjectType": [src.singular],
                            "toObjectType": [dst.singular],
                        },
                        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
                    )
                )
                continue
            result: dict[str, Any] = {"from": {"id": record_id}, "to": page}
            if start + PAGE < len(items):
                result["paging"] = {"next": {"after": str(start + PAGE)}}
            results.append(result)
    return batch_response(results, errors, started)


def _pair_result(src: ObjectType, from_id: str, dst: ObjectType, to_id: str) -> dict[str, Any]:
    return {
        "fromObjectTypeId": src.type_id,
        "fromObjectId": int(from_id),
        "toObjectTypeId": dst.type_id,
        "toObjectId": int(to_id),
        "labels": [],
    }


def _missing(p: Portal, src: ObjectType, from_id: str, dst: ObjectType, to_id: str) -> str | None:
    if p.store.get(src.name, from_id) is None:
        return f"{src.singular} {from_id} does not exist"
    if p.store.get(dst.name, to_id) is None:
        return f"{dst.singular} {to_id} does not exist"
    return None


@router.post("/crm/v4/associations/{from_type}/{to_type}/batch/create", status_code=201)
def batch_create(
    request: Request, from_type: str, to_type: str, body: AssocCreateBody
) -> JSONResponse:
    src, dst = _types(request, from_type, to_type, write=True)
    started = now_iso()
    inputs = body.inputs or []
    check_batch_size(len(inputs), MAX_CREATE)
    p = portal(request)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    with p.store.lock:
        for inp in inputs:
            from_id, to_id = as_id(inp.from_.id), as_id(inp.to.id)
            problem = _missing(p, src, from_id, dst, to_id)
            specs = list(inp.types)
            if not specs and (src.name, dst.name) in DEFAULT_TYPE:
                specs = [AssociationTypeSpec(associationTypeId=DEFAULT_TYPE[(src.name, dst.name)])]
            if problem is None and not specs:
                problem = f"No association type exists between {src.singular} and {dst.singular}"
            for spec in specs:
                problem = problem or _check_type(src, dst, spec)
            if problem is not None:
                errors.append(
                    batch_item_error(
                        "VALIDATION_ERROR",
                        problem,
                        {"fromObjectId": [from_id], "toObjectId": [to_id]},
                    )
                )
                continue
            for spec in specs:
                p.store.assoc.add(from_id, to_id, spec.associationTypeId)
            results.append(_pair_result(src, from_id, dst, to_id))
    written(request, len(results))
    return batch_response(results, errors, started, 201)


@router.post("/crm/v4/associations/{from_type}/{to_type}/batch/associate/default")
def batch_default(
    request: Request, from_type: str, to_type: str, body: AssocCreateBody
) -> JSONResponse:
    src, dst = _types(request, from_type, to_type, write=True)
    started = now_iso()
    inputs = body.inputs or []
    check_batch_size(len(inputs), MAX_CREATE)
    tid = DEFAULT_TYPE.get((src.name, dst.name))
    if tid is None:
        raise validation(f"No association type exists between {src.singular} and {dst.singular}")
    p = portal(request)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    with p.store.lock:
        for inp in inputs:
            from_id, to_id = as_id(inp.from_.id), as_id(inp.to.id)
            problem = _missing(p, src, from_id, dst, to_id)
            if problem is not None:
                errors.append(
                    batch_item_error("VALIDATION_ERROR", problem, {"fromObjectId": [from_id]})
                )
                continue
            p.store.assoc.add(from_id, to_id, tid)
            results.append(
                {
                    "from": {"id": from_id},
                    "to": {"id": to_id},
                    "associationSpec": {
                        "associationCategory": "HUBSPOT_DEFINED",
                        "associationTypeId": tid,
                    },
                }
            )
    written(request, len(results))
    return batch_response(results, errors, started)


@router.post("/crm/v4/associations/{from_type}/{to_type}/batch/archive", status_code=204)
def batch_archive(
    request: Request, from_type: str, to_type: str, body: AssocArchiveBody
) -> Response:
    src, dst = _types(request, from_type, to_type, write=True)
    inputs = body.inputs or []
    check_batch_size(len(inputs), MAX_CREATE)
    p = portal(request)
    count = 0
    with p.store.lock:
        for inp in inputs:
            for to in inp.to:
                count += p.store.assoc.remove_pair(
                    src.name, as_id(inp.from_.id), dst.name, as_id(to.id)
                )
    written(request, count)
    return Response(status_code=204)


@router.get("/crm/v4/objects/{from_type}/{object_id}/associations/{to_type}")
def list_for_record(
    request: Request,
    from_type: str,
    object_id: str,
    to_type: str,
    limit: int = PAGE,
    after: str | None = None,
) -> dict[str, Any]:
    src, dst = _types(request, from_type, to_type, write=False)
    start = paging_start(limit, after, PAGE)
    p = portal(request)
    with p.store.lock:
        items = _edge_items(p, src, object_id, dst)
    body: dict[str, Any] = {"results": items[start : start + limit]}
    if start + limit < len(items):
        nxt = str(start + limit)
        body["paging"] = {
            "next": {"after": nxt, "link": str(request.url.include_query_params(after=nxt))}
        }
    return body


@router.put("/crm/v4/objects/{from_type}/{object_id}/associations/default/{to_type}/{to_id}")
def put_default(
    request: Request, from_type: str, object_id: str, to_type: str, to_id: str
) -> JSONResponse:
    src, dst = _types(request, from_type, to_type, write=True)
    tid = DEFAULT_TYPE.get((src.name, dst.name))
    if tid is None:
        raise validation(f"No association type exists between {src.singular} and {dst.singular}")
    p = portal(request)
    with p.store.lock:
        problem = _missing(p, src, object_id, dst, to_id)
        if problem is not None:
            raise not_found(problem)
        p.store.assoc.add(object_id, to_id, tid)
    written(request, 1)
    started = now_iso()
    result = {
        "from": {"id": object_id},
        "to": {"id": to_id},
        "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": tid},
    }
    return JSONResponse(batch_envelope([result], [], started), status_code=200)


@router.put(
    "/crm/v4/objects/{from_type}/{object_id}/associations/{to_type}/{to_id}", status_code=201
)
def put_labeled(
    request: Request,
    from_type: str,
    object_id: str,
    to_type: str,
    to_id: str,
    body: list[AssociationTypeSpec] = Body(...),  # noqa: B008 - FastAPI's declaration style
) -> JSONResponse:
    src, dst = _types(request, from_type, to_type, write=True)
    p = portal(request)
    with p.store.lock:
        problem = _missing(p, src, object_id, dst, to_id)
        if problem is not None:
            raise not_found(problem)
        for spec in body:
            msg = _check_type(src, dst, spec)
            if msg is not None:
                raise validation(msg)
        for spec in body:
            p.store.assoc.add(object_id, to_id, spec.associationTypeId)
        labels = sorted({v4_label(s.associationTypeId) for s in body} - {None})
    written(request, 1)
    result = _pair_result(src, object_id, dst, to_id)
    result["labels"] = labels
    return JSONResponse(result, status_code=201)


@router.delete(
    "/crm/v4/objects/{from_type}/{object_id}/associations/{to_type}/{to_id}", status_code=204
)
def delete_pair(
    request: Request, from_type: str, object_id: str, to_type: str, to_id: str
) -> Response:
    src, dst = _types(request, from_type, to_type, write=True)
    p = portal(request)
    with p.store.lock:
        p.store.assoc.remove_pair(src.name, object_id, dst.name, to_id)
    written(request, 1)
    return Response(status_code=204)


@router.get("/crm/v4/associations/{from_type}/{to_type}/labels")
def list_labels(request: Request, from_type: str, to_type: str) -> dict[str, Any]:
    # The associations-schema spec's label definitions; user-defined labels are not emulated.
    src, dst = _types(request, from_type, to_type, write=False)
    return {"results": label_definitions(src.name, dst.name)}
