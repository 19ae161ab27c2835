"""`/crm/v3/objects/{type}/batch/{read,create,update,upsert,archive}` with HubSpot's 207 rules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ..clock import now_iso
from ..errors import batch_item_error, validation
from ..gateway import GatedRoute
from ..models import (
    BatchArchiveBody,
    BatchCreateBody,
    BatchReadBody,
    BatchUpdateBody,
    BatchUpdateInput,
    CreateInput,
    as_id,
)
from ..objecttypes import ObjectType
from ..render import history, render, written_names
from ..state import Portal, portal
from ..store import Record
from ..writes import (
    Failure,
    Planned,
    apply,
    check_create,
    check_update,
    combined_failure,
    fails_whole_batch,
)
from .common import (
    batch_envelope,
    batch_response,
    check_batch_size,
    object_type_or_400,
    require_object_scope,
    written,
)

router = APIRouter(prefix="/crm/v3/objects/{object_type}/batch", route_class=GatedRoute)
MAX_HISTORY_BATCH = 50


def _by_id(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # HubSpot does not keep input order; sorting by id makes that visible to clients.
    return sorted(results, key=lambda r: int(r["id"]))


def _not_found_error(ot: ObjectType, ids: list[str]) -> dict[str, Any]:
    return batch_item_error(
        "OBJECT_NOT_FOUND",
        f"Could not get some {ot.singular.upper()} objects, they may be deleted or not exist. "
        "Check that ids are valid.",
        {"ids": ids},
    )


def _check_duplicates(keys: list[str]) -> None:
    seen: set[str] = set()
    dupes: list[str] = []
    for key in keys:
        if key in seen and key not in dupes:
            dupes.append(key)
        seen.add(key)
    if dupes:
        raise validation(
            f"Duplicate IDs found in batch input: [{', '.join(dupes)}]. IDs must be unique",
            context={"ids": dupes},
        )


def _id_key(id_property: str | None, value: str) -> str:
    return value.lower() if id_property == "email" else value


def _check_id_property(p: Portal, ot: ObjectType, id_property: str | None) -> None:
    if id_property and not p.store.can_identify_by(ot.name, id_property):
        raise validation(
            f"Unable to perform update/upsert by non-unique {ot.type_id} property {id_property}"
        )


def _trace_error(failure: Failure, trace_id: str) -> dict[str, Any]:
    return batch_item_error(
        failure.category,
        failure.message,
        {**(failure.context or {}), "objectWriteTraceId": [trace_id]},
        errors=failure.errors,
    )


def _write_checked(
    p: Portal,
    ot: ObjectType,
    inputs: Sequence[CreateInput | BatchUpdateInput],
    checked: list[tuple[Planned | None, Failure | None]],
    traced: bool,
    mark_new: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Apply the planned writes; a failed input is a per-item error unless the batch fails whole.

    `mark_new` adds upsert's `new` flag: true when the plan created the record.
    """
    failures = [f for _, f in checked if f is not None]
    if fails_whole_batch(failures, traced):
        raise combined_failure(p, failures)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for inp, (plan, failure) in zip(inputs, checked, strict=True):
        if failure is not None:
            errors.append(_trace_error(failure, inp.objectWriteTraceId or ""))
        elif plan is not None:
            is_new = plan.record is None
            rec = apply(p, ot.name, plan)
            names = written_names(ot.name, plan.clean)
            item = render(p.store, ot.name, rec, names, trace_id=inp.objectWriteTraceId)
            if mark_new:
                item["new"] = is_new
            results.append(item)
    return results, errors


def _empty(request: Request) -> JSONResponse:
    # A body without `inputs` is accepted as a silent no-op, as HubSpot does.
    return JSONResponse(batch_envelope([], [], now_iso()), status_code=200)


@router.post("/read")
def batch_read(
    request: Request, object_type: str, body: BatchReadBody, archived: bool = False
) -> JSONResponse:
    ot = object_type_or_400(object_type)
    require_object_scope(request, ot, write=False)
    if body.inputs is None:
        return _empty(request)
    started = now_iso()
    limit = MAX_HISTORY_BATCH if body.propertiesWithHistory else 100
    if body.propertiesWithHistory and len(body.inputs) > limit:
        raise validation(
            "The maximum number of inputs supported in a batch request for property histories "
            f"is {limit}"
        )
    check_batch_size(len(body.inputs))
    p = portal(request)
    ids = [as_id(i.id) for i in body.inputs]
    _check_duplicates([_id_key(body.idProperty, i) for i in ids])
    results: list[dict[str, Any]] = []
    missing: list[str] = []
    with p.store.lock:
        _check_id_property(p, ot, body.idProperty)
        for record_id in ids:
            if archived:
                rec = p.store.get(ot.name, record_id, archived=True)
            else:
                rec = p.store.find_by(ot.name, body.idProperty, record_id)
            if rec is None:
                missing.append(record_id)
                continue
            item = render(p.store, ot.name, rec, body.properties or None)
            if body.propertiesWithHistory:
                item["propertiesWithHistory"] = history(rec, body.propertiesWithHistory)
            results.append(item)
    errors = [_not_found_error(ot, missing)] if missing else []
    return batch_response(_by_id(results), errors, started)


@router.post("/create", status_code=201)
def batch_create(request: Request, object_type: str, body: BatchCreateBody) -> JSONResponse:
    ot = object_type_or_400(object_type)
    require_object_scope(request, ot, write=True)
    if body.inputs is None:
        return _empty(request)
    started = now_iso()
    check_batch_size(len(body.inputs))
    traced = bool(body.inputs) and all(i.objectWriteTraceId for i in body.inputs)
    p = portal(request)
    with p.store.lock:
        pending: set[tuple[str, str]] = set()
        checked = [
            check_create(p, ot.name, i.properties, i.associations, pending) for i in body.inputs
        ]
        results, errors = _write_checked(p, ot, body.inputs, checked, traced)
        written(request, len(results))
    return batch_response(_by_id(results), errors, started, 201)


def _resolve_targets(
    p: Portal, ot: ObjectType, inputs: list[BatchUpdateInput]
) -> list[Record | None]:
    for inp in inputs:
        _check_id_property(p, ot, inp.idProperty)
    return [p.store.find_by(ot.name, inp.idProperty, as_id(inp.id)) for inp in inputs]


@router.post("/update")
def batch_update(request: Request, object_type: str, body: BatchUpdateBody) -> JSONResponse:
    ot = object_type_or_400(object_type)
    require_object_scope(request, ot, write=True)
    if body.inputs is None:
        return _empty(request)
    started = now_iso()
    check_batch_size(len(body.inputs))
    _check_duplicates([_id_key(i.idProperty, as_id(i.id)) for i in body.inputs])
    traced = bool(body.inputs) and all(i.objectWriteTraceId for i in body.inputs)
    p = portal(request)
    with p.store.lock:
        targets = _resolve_targets(p, ot, body.inputs)
        pending: set[tuple[str, str]] = set()
        checked: list[tuple[Planned | None, Failure | None]] = [
            check_update(p, ot.name, rec, inp.properties, pending)
            if rec is not None
            else (None, None)
            for inp, rec in zip(body.inputs, targets, strict=True)
        ]
        results, errors = _write_checked(p, ot, body.inputs, checked, traced)
        missing = [as_id(i.id) for i, rec in zip(body.inputs, targets, strict=True) if rec is None]
        if missing:
            errors.append(_not_found_error(ot, missing))
        written(request, len(results))
    return batch_response(_by_id(results), errors, started)


@router.post("/upsert")
def batch_upsert(request: Request, object_type: str, body: BatchUpdateBody) -> JSONResponse:
    ot = object_type_or_400(object_type)
    require_object_scope(request, ot, write=True)
    if body.inputs is None:
        return _empty(request)
    started = now_iso()
    check_batch_size(len(body.inputs))
    p = portal(request)
    for inp in body.inputs:
        if not inp.idProperty or inp.idProperty == "hs_object_id":
            raise validation(
                f"Unable to perform update/upsert by non-unique {ot.type_id} property "
                f"{inp.idProperty or 'hs_object_id'}"
            )
    _check_duplicates([_id_key(i.idProperty, as_id(i.id)) for i in body.inputs])
    # The docs: partial upserts are not supported when email is the idProperty for contacts.
    by_email = ot.name == "contacts" and any(i.idProperty == "email" for i in body.inputs)
    traced = bool(body.inputs) and all(i.objectWriteTraceId for i in body.inputs) and not by_email
    with p.store.lock:
        targets = _resolve_targets(p, ot, body.inputs)
        pending: set[tuple[str, str]] = set()
        checked: list[tuple[Planned | None, Failure | None]] = []
        for inp, rec in zip(body.inputs, targets, strict=True):
            if rec is not None:
                checked.append(check_update(p, ot.name, rec, inp.properties, pending))
            else:
                props = {**inp.properties, str(inp.idProperty): as_id(inp.id)}
                checked.append(check_create(p, ot.name, props, None, pending))
        results, errors = _write_checked(p, ot, body.inputs, checked, traced, mark_new=True)
        written(request, len(results))
    return batch_response(_by_id(results), errors, started)


@router.post("/archive", status_code=204)
def batch_archive(request: Request, object_type: str, body: BatchArchiveBody) -> Response:
    ot = object_type_or_400(object_type)
    require_object_scope(request, ot, write=True)
    inputs = body.inputs or []
    check_batch_size(len(inputs))
    p = portal(request)
    count = 0
    with p.store.lock:
        for inp in inputs:
            rec = p.store.get(ot.name, as_id(inp.id))
            if rec is not None:
                p.store.archive(ot.name, rec)
                count += 1
    written(request, count)
    return Response(status_code=204)
