"""HubSpot's default deal and ticket pipelines (catalog/pipelines.json), read once at import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_CATALOG = Path(__file__).resolve().parent / "catalog" / "pipelines.json"
PIPELINES: dict[str, list[dict[str, Any]]] = {
    k: v for k, v in json.loads(_CATALOG.read_text()).items() if not k.startswith("_")
}
# The properties that hold a record's pipeline and stage, per object type.
PIPELINE_PROPS: dict[str, tuple[str, str]] = {
    "deals": ("pipeline", "dealstage"),
    "tickets": ("hs_pipeline", "hs_pipeline_stage"),
}


def stages(object_type: str) -> list[dict[str, Any]]:
    """Every stage of every pipeline of the type, in pipeline then display order."""
    return [s for p in PIPELINES.get(object_type, []) for s in p["stages"]]


def find_stage(object_type: str, stage_id: str) -> dict[str, Any] | None:
    return next((s for s in stages(object_type) if s["id"] == stage_id), None)


def default_pipeline(object_type: str) -> str | None:
    pipelines = PIPELINES.get(object_type) or []
    return pipelines[0]["id"] if len(pipelines) == 1 else None
