"""Loading a generated dataset (docs/contracts.md section 1, the `hubspot/` files).

Files are read line by line so 100k contacts load in seconds without holding the text.
Records are taken as the generator wrote them: the dataset is the portal's existing state,
not a series of API writes, so it is not re-validated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from .associations import ASSOC_TYPES
from .clock import now_ms, parse_datetime_ms
from .objecttypes import OBJECT_TYPES, resolve
from .propdefs import make_property
from .state import Portal
from .store import Record


class DatasetError(ValueError):
    """The dataset directory is missing or a line cannot be used."""


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise DatasetError(f"{path.name} line {number}: invalid JSON ({exc})") from exc


def _load_property(p: Portal, row: dict[str, Any]) -> None:
    ot = resolve(str(row.get("objectType", "")))
    if ot is None or "name" not in row:
        raise DatasetError(f"properties.jsonl: unusable definition {row.get('name')!r}")
    group = row.get("groupName") or next(iter(p.registry.groups[ot.name]))
    if group not in p.registry.groups[ot.name]:
        p.registry.groups[ot.name][group] = {
            "name": group,
            "label": group,
            "displayOrder": -1,
            "archived": False,
        }
    prop = make_property(
        row["name"],
        row.get("type", "string"),
        row.get("fieldType", "text"),
        group,
        label=row.get("label"),
        options=row.get("options") or [],
        unique=bool(row.get("hasUniqueValue", False)),
        hubspot_defined=False,
        description=row.get("description", ""),
    )
    p.registry.props[ot.name][prop["name"]] = prop


def _stamp(value: Any, fallback: int) -> int:
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        ms = parse_datetime_ms(value)
        if ms is not None:
            return ms
    return fallback


def _record(object_type: str, row: dict[str, Any]) -> Record:
    ot = OBJECT_TYPES[object_type]
    props = {k: str(v) for k, v in (row.get("properties") or {}).items() if v not in (None, "")}
    record_id = str(row["id"])
    props["hs_object_id"] = record_id
    if object_type == "contacts" and "email" in props:
        props["email"] = props["email"].strip().lower()
    now = now_ms()
    created = _stamp(row.get("createdAt") or props.get(ot.created_prop), now)
    updated = _stamp(row.get("updatedAt") or props.get(ot.modified_prop), created)
    return Record(record_id, props, created, updated, bool(row.get("archived", False)))


def load_into(p: Portal, directory: Path) -> dict[str, int]:
    """Replace the portal's state with the dataset in `directory`; return row counts."""
    base = Path(directory)
    hub = base / "hubspot" if (base / "hubspot").is_dir() else base
    if not hub.is_dir():
        raise DatasetError(f"dataset directory {base} does not exist")
    counts: dict[str, int] = {}
    store = p.store
    with store.lock:
        store.clear()
        p.registry.reset()
        counts["properties"] = 0
        for row in _lines(hub / "properties.jsonl"):
            _load_property(p, row)
            counts["properties"] += 1
        counts["owners"] = 0
        for row in _lines(hub / "owners.jsonl"):
            if "id" not in row:
                raise DatasetError(f"owners.jsonl: owner without id {row!r}")
            store.owners[str(row["id"])] = row
            counts["owners"] += 1
        for object_type in OBJECT_TYPES:
            n = 0
            for row in _lines(hub / f"{object_type}.jsonl"):
                try:
                    rec = _record(object_type, row)
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise DatasetError(f"{object_type}.jsonl row {n + 1}: {exc!r}") from exc
                store.insert_loaded(object_type, rec)
                n += 1
            counts[object_type] = n
        counts["associations"] = 0
        for row in _lines(hub / "associations.jsonl"):
            try:
                type_id = int(row["type_id"])
                from_id, to_id = str(row["from_id"]), str(row["to_id"])
            except (KeyError, TypeError, ValueError) as exc:
                raise DatasetError(f"associations.jsonl: unusable row {row!r}") from exc
            if type_id not in ASSOC_TYPES:
                raise DatasetError(f"associations.jsonl: unknown association type {type_id}")
            store.assoc.add(from_id, to_id, type_id)
            counts["associations"] += 1
        store.finish_load()
    return counts
