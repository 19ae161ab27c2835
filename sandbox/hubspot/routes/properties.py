"""`/crm/v3/properties/{type}`: definitions and groups."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from ..clock import now_iso
from ..errors import HubSpotError, batch_item_error, not_found, validation
from ..gateway import GatedRoute, require_scopes
from ..models import (
    GroupCreateBody,
    GroupUpdateBody,
    PropertyBatchCreateBody,
    PropertyBatchReadBody,
    PropertyCreateBody,
    PropertyUpdateBody,
)
from ..objecttypes import ObjectType
from ..propdefs import (
    FIELD_TYPES,
    MAX_UNIQUE_PER_OBJECT,
    NAME_PATTERN,
    PropertyRegistry,
    make_group,
    make_property,
)
from ..state import portal
from .common import batch_response, object_type_or_400

router = APIRouter(prefix="/crm/v3/properties/{object_type}", route_class=GatedRoute)
CREATABLE_TYPES = frozenset(FIELD_TYPES)


def _read(request: Request, object_type: str) -> ObjectType:
    ot = object_type_or_400(object_type)
    require_scopes(request, f"crm.schemas.{ot.scope}.read", *ot.scopes(write=False))
    return ot


def _write(request: Request, object_type: str) -> ObjectType:
    ot = object_type_or_400(object_type)
    require_scopes(request, f"crm.schemas.{ot.scope}.write")
    return ot


def _group_or_404(request: Request, ot: ObjectType, group_name: str) -> dict[str, Any]:
    group = portal(request).registry.groups[ot.name].get(group_name)
    if group is None:
        raise not_found(f"Property group {group_name} does not exist")
    return group


def _property_or_404(
    registry: PropertyRegistry, ot: ObjectType, property_name: str
) -> dict[str, Any]:
    prop = registry.get(ot.name, property_name)
    if prop is None:
        raise not_found(f"Unable to find property {property_name} for {ot.name}")
    return prop


def build_property(
    registry: PropertyRegistry, ot: ObjectType, body: PropertyCreateBody
) -> dict[str, Any]:
    """A new definition, or the HubSpotError the real API answers with."""
    if not NAME_PATTERN.match(body.name):
        raise validation(
            f"Property name {body.name!r} is invalid: use lowercase letters, digits and "
            "underscores, starting with a letter"
        )
    if body.type not in CREATABLE_TYPES:
        raise validation(f"Invalid property type {body.type!r}")
    if body.fieldType not in FIELD_TYPES[body.type]:
        raise validation(
            f"Property type {body.type} is not compatible with field type {body.fieldType}; "
            f"allowed: {sorted(FIELD_TYPES[body.type])}"
        )
    if body.name in registry.props[ot.name]:
        raise HubSpotError(
            409,
            "OBJECT_ALREADY_EXISTS",
            f"Property named '{body.name}' already exists for {ot.name}",
        )
    if body.groupName not in registry.groups[ot.name]:
        raise validation(f"Property group {body.groupName!r} does not exist")
    if body.hasUniqueValue and len(registry.unique_names(ot.name)) >= MAX_UNIQUE_PER_OBJECT:
        raise validation(
            f"An object may have at most {MAX_UNIQUE_PER_OBJECT} unique value properties"
        )
    values = [o.value for o in body.options]
    if len(set(values)) != len(values):
        raise validation("Option values must be unique")
    prop = make_property(
        body.name,
        body.type,
        body.fieldType,
        body.groupName,
        label=body.label,
        options=[o.model_dump(exclude_none=True) for o in body.options],
        unique=body.hasUniqueValue,
        hubspot_defined=False,
        external_options=body.externalOptions,
        referenced_object_type=body.referencedObjectType,
        description=body.description,
        display_order=body.displayOrder,
    )
    prop["hidden"] = body.hidden
    prop["formField"] = body.formField
    return prop


@router.get("")
def list_properties(request: Request, object_type: str, archived: bool = False) -> dict[str, Any]:
    ot = _read(request, object_type)
    p = portal(request)
    with p.registry.lock:
        props = [q for q in p.registry.props[ot.name].values() if q["archived"] == archived]
    return {"results": props}  # all at once: the Properties API has no paging


@router.post("", status_code=201)
def create_property(request: Request, object_type: str, body: PropertyCreateBody) -> JSONResponse:
    ot = _write(request, object_type)
    p = portal(request)
    with p.registry.lock:
        prop = build_property(p.registry, ot, body)
        p.registry.props[ot.name][prop["name"]] = prop
    return JSONResponse(prop, status_code=201)


@router.post("/batch/create", status_code=201)
def batch_create_properties(
    request: Request, object_type: str, body: PropertyBatchCreateBody
) -> JSONResponse:
    ot = _write(request, object_type)
    started = now_iso()
    p = portal(request)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    with p.registry.lock:
        for inp in body.inputs or []:
            try:
                prop = build_property(p.registry, ot, inp)
            except HubSpotError as exc:
                errors.append(batch_item_error(exc.category, exc.message, {"name": [inp.name]}))
                continue
            p.registry.props[ot.name][prop["name"]] = prop
            results.append(prop)
    return batch_response(results, errors, started, 201)


@router.post("/batch/read")
def batch_read_properties(
    request: Request, object_type: str, body: PropertyBatchReadBody
) -> JSONResponse:
    ot = _read(request, object_type)
    started = now_iso()
    p = portal(request)
    results: list[dict[str, Any]] = []
    missing: list[str] = []
    with p.registry.lock:
        for inp in body.inputs or []:
            prop = p.registry.props[ot.name].get(inp.name)
            if prop is None or prop["archived"] != body.archived:
                missing.append(inp.name)
            else:
                results.append(prop)
    errors = (
        [
            batch_item_error(
                "OBJECT_NOT_FOUND", f"Could not find properties: {missing}", {"names": missing}
            )
        ]
        if missing
        else []
    )
    return batch_response(results, errors, started)


@router.post("/batch/archive", status_code=204)
def batch_archive_properties(
    request: Request, object_type: str, body: PropertyBatchReadBody
) -> Response:
    ot = _write(request, object_type)
    p = portal(request)
    with p.registry.lock:
        for inp in body.inputs or []:
            prop = p.registry.props[ot.name].get(inp.name)
            if prop is not None and not prop["hubspotDefined"]:
                prop["archived"] = True
    return Response(status_code=204)


@router.get("/groups")
def list_groups(request: Request, object_type: str) -> dict[str, Any]:
    ot = _read(request, object_type)
    p = portal(request)
    with p.registry.lock:
        return {"results": list(p.registry.groups[ot.name].values())}


@router.post("/groups", status_code=201)
def create_group(request: Request, object_type: str, body: GroupCreateBody) -> JSONResponse:
    ot = _write(request, object_type)
    if not NAME_PATTERN.match(body.name):
        raise validation(f"Property group name {body.name!r} is invalid")
    p = portal(request)
    with p.registry.lock:
        if body.name in p.registry.groups[ot.name]:
            raise HubSpotError(
                409, "OBJECT_ALREADY_EXISTS", f"Property group '{body.name}' already exists"
            )
        group = make_group(body.name, body.label, body.displayOrder)
        p.registry.groups[ot.name][body.name] = group
    return JSONResponse(group, status_code=201)


@router.get("/groups/{group_name}")
def get_group(request: Request, object_type: str, group_name: str) -> dict[str, Any]:
    ot = _read(request, object_type)
    group = _group_or_404(request, ot, group_name)
    return group


@router.patch("/groups/{group_name}")
def update_group(
    request: Request, object_type: str, group_name: str, body: GroupUpdateBody
) -> dict[str, Any]:
    ot = _write(request, object_type)
    group = _group_or_404(request, ot, group_name)
    group.update(body.model_dump(exclude_none=True))
    return group


@router.delete("/groups/{group_name}", status_code=204)
def delete_group(request: Request, object_type: str, group_name: str) -> Response:
    ot = _write(request, object_type)
    portal(request).registry.groups[ot.name].pop(group_name, None)
    return Response(status_code=204)


@router.get("/{property_name}")
def get_property(
    request: Request, object_type: str, property_name: str, archived: bool = False
) -> dict[str, Any]:
    ot = _read(request, object_type)
    prop = portal(request).registry.props[ot.name].get(property_name)
    if prop is None or prop["archived"] != archived:
        raise not_found(f"Unable to find property {property_name} for {ot.name}")
    return prop


@router.patch("/{property_name}")
def update_property(
    request: Request, object_type: str, property_name: str, body: PropertyUpdateBody
) -> dict[str, Any]:
    ot = _write(request, object_type)
    p = portal(request)
    with p.registry.lock:
        prop = _property_or_404(p.registry, ot, property_name)
        if prop["modificationMetadata"]["readOnlyDefinition"]:
            raise validation(f"{property_name} is a HubSpot-defined property and is read only")
        changes = body.model_dump(exclude_none=True)
        new_type = changes.get("type", prop["type"])
        new_field = changes.get("fieldType", prop["fieldType"])
        if new_type not in FIELD_TYPES or new_field not in FIELD_TYPES[new_type]:
            raise validation(
                f"Property type {new_type} is not compatible with field type {new_field}"
            )
        if "groupName" in changes and changes["groupName"] not in p.registry.groups[ot.name]:
            raise validation(f"Property group {changes['groupName']!r} does not exist")
        # `options` replaces the whole list, as in HubSpot; values must stay unique.
        values = [o["value"] for o in changes.get("options", [])]
        if len(set(values)) != len(values):
            raise validation("Option values must be unique")
        prop.update(changes)
        prop["updatedAt"] = now_iso()
        return prop


@router.delete("/{property_name}", status_code=204)
def archive_property(request: Request, object_type: str, property_name: str) -> Response:
    ot = _write(request, object_type)
    p = portal(request)
    with p.registry.lock:
        prop = _property_or_404(p.registry, ot, property_name)
        if prop["hubspotDefined"]:
            raise validation(
                f"{property_name} is a HubSpot-defined property and cannot be archived"
            )
        prop["archived"] = True
        prop["archivedAt"] = now_iso()
    return Response(status_code=204)
