"""`/crm/v3/pipelines/{objectType}`: the deal and ticket pipelines, read-only.

Stage ids and metadata come from catalog/pipelines.json, the same data the dealstage and
hs_pipeline_stage options and the calculated deal properties use, so they always agree.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..clock import ms_to_iso
from ..errors import not_found, validation
from ..gateway import GatedRoute
from ..objecttypes import ObjectType
from ..pipelines import PIPELINES
from .common import object_type_or_400, require_object_scope

router = APIRouter(prefix="/crm/v3/pipelines/{object_type}", route_class=GatedRoute)
# Default pipelines exist from the portal's creation; a fixed stamp keeps responses stable.
CREATED = ms_to_iso(1_577_836_800_000)


def _pipelines(request: Request, object_type: str) -> tuple[ObjectType, list[dict[str, Any]]]:
    ot = object_type_or_400(object_type)
    require_object_scope(request, ot, write=False)
    if ot.name not in PIPELINES:
        raise validation(f"Object type {ot.type_id} does not support pipelines")
    return ot, PIPELINES[ot.name]


def _stage(stage: dict[str, Any], order: int) -> dict[str, Any]:
    return {
        "id": stage["id"],
        "label": stage["label"],
        "displayOrder": order,
        "metadata": stage["metadata"],
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "archived": False,
        "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
    }


def _pipeline(pipeline: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": pipeline["id"],
        "label": pipeline["label"],
        "displayOrder": pipeline["displayOrder"],
        "stages": [_stage(s, i) for i, s in enumerate(pipeline["stages"])],
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "archived": False,
    }


def _find(pipelines: list[dict[str, Any]], pipeline_id: str) -> dict[str, Any]:
    for pipeline in pipelines:
        if pipeline["id"] == pipeline_id:
            return _pipeline(pipeline)
    raise not_found(f"Unable to find pipeline {pipeline_id}")


@router.get("")
def list_pipelines(request: Request, object_type: str) -> dict[str, Any]:
    _, pipelines = _pipelines(request, object_type)
    return {"results": [_pipeline(p) for p in pipelines]}


@router.get("/{pipeline_id}")
def get_pipeline(request: Request, object_type: str, pipeline_id: str) -> dict[str, Any]:
    _, pipelines = _pipelines(request, object_type)
    return _find(pipelines, pipeline_id)


@router.get("/{pipeline_id}/stages")
def list_stages(request: Request, object_type: str, pipeline_id: str) -> dict[str, Any]:
    _, pipelines = _pipelines(request, object_type)
    return {"results": _find(pipelines, pipeline_id)["stages"]}


@router.get("/{pipeline_id}/stages/{stage_id}")
def get_stage(
    request: Request, object_type: str, pipeline_id: str, stage_id: str
) -> dict[str, Any]:
    _, pipelines = _pipelines(request, object_type)
    for stage in _find(pipelines, pipeline_id)["stages"]:
        if stage["id"] == stage_id:
            return dict(stage)
    raise not_found(f"Unable to find stage {stage_id} in pipeline {pipeline_id}")
