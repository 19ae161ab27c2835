"""Records as the API returns them (SimplePublicObject and friends)."""

from __future__ import annotations

from typing import Any

from .associations import v3_label
from .clock import ms_to_iso
from .objecttypes import OBJECT_TYPES, resolve
from .store import Record, Store


def split_names(values: list[str] | None) -> list[str] | None:
    """`properties=a,b` and `properties=a&properties=b` mean the same thing."""
    if values is None:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    return names


def select_properties(
    store: Store, object_type: str, rec: Record, names: list[str] | None
) -> dict[str, str | None]:
    if not names:
        defaults = OBJECT_TYPES[object_type].default_props
        return {n: rec.props[n] for n in defaults if n in rec.props}
    out: dict[str, str | None] = {}
    for name in names:
        if name in rec.props:
            out[name] = rec.props[name]
        elif store.registry.get(object_type, name) is not None:
            out[name] = None  # requested, defined, never set (unknown names are dropped)
    return out


def written_names(object_type: str, written: dict[str, object]) -> list[str]:
    """What a write's response shows: the default properties plus the ones the write set.

    HubSpot's create and update responses echo the written properties beside the defaults
    (the docs' create-task and create-contact response examples).
    """
    defaults = OBJECT_TYPES[object_type].default_props
    return [*defaults, *(n for n in written if n not in defaults)]


def history(rec: Record, names: list[str]) -> dict[str, list[dict[str, str]]]:
    """`propertiesWithHistory`: each named property's versions, newest first (ValueWithTimestamp).

    Names the record never had are left out, as the spec says they are ignored.
    """
    out: dict[str, list[dict[str, str]]] = {}
    for name in names:
        versions = rec.versions(name)
        if versions:
            out[name] = [
                {
                    "value": v.value,
                    "timestamp": ms_to_iso(v.timestamp_ms),
                    "sourceType": v.source_type,
                    "sourceId": v.source_id,
                }
                for v in versions
            ]
    return out


def render(
    store: Store,
    object_type: str,
    rec: Record,
    names: list[str] | None = None,
    *,
    trace_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rec.id,
        "properties": select_properties(store, object_type, rec, names),
        "createdAt": ms_to_iso(rec.created_ms),
        "updatedAt": ms_to_iso(rec.updated_ms),
        "archived": rec.archived,
    }
    if rec.archived and rec.archived_ms is not None:
        body["archivedAt"] = ms_to_iso(rec.archived_ms)
    if trace_id is not None:
        body["objectWriteTraceId"] = trace_id
    return body


def v3_associations(
    store: Store, object_type: str, rec: Record, to_types: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in to_types:
        target = resolve(name)
        if target is None:
            continue  # unknown types are ignored, as HubSpot does
        edges = store.assoc.targets(object_type, rec.id, target.name)
        results = [
            {"id": to_id, "type": v3_label(tid)}
            for to_id in sorted(edges, key=int)
            for tid in sorted(edges[to_id])
        ]
        if results:
            out[target.name] = {"results": results}
    return out
