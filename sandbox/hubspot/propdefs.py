"""Property definitions and groups: the seeded HubSpot defaults plus the portal's custom ones."""

from __future__ import annotations

import csv
import re
import threading
from pathlib import Path
from typing import Any

from .clock import now_iso
from .objecttypes import OBJECT_TYPES
from .pipelines import PIPELINES, stages

LIFECYCLE_ORDER = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
LIFECYCLE_STAGES = (*LIFECYCLE_ORDER, "other")
LIFECYCLE_LABELS = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "marketingqualifiedlead": "Marketing Qualified Lead",
    "salesqualifiedlead": "Sales Qualified Lead",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "evangelist": "Evangelist",
    "other": "Other",
}

DEAL_STAGES = tuple(s["id"] for s in stages("deals"))

# type -> the fieldTypes HubSpot accepts with it (validated on v3 since 2021).
FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset(
        {"text", "textarea", "html", "phonenumber", "file", "calculation_equation"}
    ),
    "number": frozenset({"number", "calculation_equation"}),
    "bool": frozenset({"booleancheckbox", "calculation_equation"}),
    "enumeration": frozenset(
        {"select", "radio", "checkbox", "booleancheckbox", "calculation_equation"}
    ),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "phone_number": frozenset({"phonenumber"}),
}
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_UNIQUE_PER_OBJECT = 10

CATALOG = Path(__file__).resolve().parent / "catalog"
# Per stage, the timing properties HubSpot keeps for deals (dlt's stages_timing reads the v2 ones).
STAGE_PROPERTY_PREFIXES = (
    ("hs_v2_date_entered_", "datetime", "Date entered"),
    ("hs_v2_date_exited_", "datetime", "Date exited"),
    ("hs_date_entered_", "datetime", "Date entered"),
    ("hs_date_exited_", "datetime", "Date exited"),
    ("hs_time_in_", "number", "Time in"),
)


def _read_csv(name: str) -> list[dict[str, str]]:
    with (CATALOG / name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _catalog_groups() -> dict[str, list[tuple[str, str, int]]]:
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for row in _read_csv("groups.csv"):
        groups.setdefault(row["object_type"], []).append(
            (row["name"], row["label"], int(row["display_order"]))
        )
    return groups


def _catalog_options(spec: str) -> list[dict[str, Any]]:
    """`value=Label|value` (a bare value is its own label)."""
    pairs = [item.split("=", 1) if "=" in item else [item, item] for item in spec.split("|")]
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(pairs)
    ]


CATALOG_GROUPS = _catalog_groups()
CATALOG_ROWS = _read_csv("properties.csv")
# Properties a create must set (catalog flag "required"); HubSpot answers 400 without them.
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    ot: tuple(
        r["name"]
        for r in CATALOG_ROWS
        if r["object_type"] == ot and "required" in r["flags"].split()
    )
    for ot in OBJECT_TYPES
}


def make_property(
    name: str,
    ptype: str,
    field_type: str,
    group: str,
    *,
    label: str | None = None,
    options: list[dict[str, Any]] | None = None,
    read_only: bool = False,
    calculated: bool = False,
    unique: bool = False,
    hubspot_defined: bool = True,
    external_options: bool = False,
    referenced_object_type: str | None = None,
    description: str = "",
    display_order: int = -1,
) -> dict[str, Any]:
    stamp = now_iso()
    prop: dict[str, Any] = {
        "name": name,
        "label": label or name.replace("_", " ").capitalize(),
        "type": ptype,
        "fieldType": field_type,
        "groupName": group,
        "description": description,
        "displayOrder": display_order,
        "options": options or [],
        "hasUniqueValue": unique,
        "hidden": False,
        "formField": False,
        "calculated": calculated,
        "externalOptions": external_options,
        "hubspotDefined": hubspot_defined,
        "archived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only or calculated,
            "readOnlyOptions": hubspot_defined and ptype != "enumeration",
        },
    }
    if referenced_object_type:
        prop["referencedObjectType"] = referenced_object_type
    return prop


def _from_row(row: dict[str, str]) -> dict[str, Any]:
    flags = set(row["flags"].split())
    options = _catalog_options(row["options"]) if row["options"] else []
    return make_property(
        row["name"],
        row["type"],
        row["field_type"],
        row["group"],
        label=row["label"],
        options=options,
        read_only="ro" in flags,
        calculated="calc" in flags,
        unique="unique" in flags,
        external_options="ext" in flags,
        referenced_object_type="OWNER" if "owner" in flags else None,
    )


def _stage_options(object_type: str) -> list[dict[str, Any]]:
    return [
        {"label": s["label"], "value": s["id"], "displayOrder": i, "hidden": False}
        for i, s in enumerate(stages(object_type))
    ]


def _pipeline_options(object_type: str) -> list[dict[str, Any]]:
    return [
        {"label": p["label"], "value": p["id"], "displayOrder": i, "hidden": False}
        for i, p in enumerate(PIPELINES.get(object_type, []))
    ]


def _lifecycle(group: str) -> list[dict[str, Any]]:
    options = [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(LIFECYCLE_LABELS.items())
    ]
    props = [make_property("lifecyclestage", "enumeration", "radio", group, options=options)]
    props += [
        make_property(f"hs_lifecyclestage_{s}_date", "datetime", "date", group, read_only=True)
        for s in LIFECYCLE_STAGES
    ]
    return props


def _stage_timing(group: str) -> list[dict[str, Any]]:
    return [
        make_property(
            f"{prefix}{s['id']}",
            ptype,
            ptype if ptype == "number" else "date",
            group,
            label=f"{label} {s['label']} ({s['id']})",
            calculated=True,
        )
        for s in stages("deals")
        for prefix, ptype, label in STAGE_PROPERTY_PREFIXES
    ]


def default_properties(object_type: str) -> list[dict[str, Any]]:
    props = [_from_row(r) for r in CATALOG_ROWS if r["object_type"] == object_type]
    group = CATALOG_GROUPS[object_type][0][0]
    if object_type in ("contacts", "companies"):
        props += _lifecycle(group)
    if object_type == "deals":
        props += _stage_timing("dealstages")
    for prop in props:
        # Pipeline and stage options mirror the Pipelines API, as HubSpot's definitions do.
        if prop["name"] in ("dealstage", "hs_pipeline_stage"):
            prop["options"] = _stage_options(object_type)
        elif prop["name"] in ("pipeline", "hs_pipeline"):
            prop["options"] = _pipeline_options(object_type)
    return props


def make_group(name: str, label: str, display_order: int = -1) -> dict[str, Any]:
    return {"name": name, "label": label, "displayOrder": display_order, "archived": False}


class PropertyRegistry:
    """Definitions per object type; the single source for validation and the Properties API."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.props: dict[str, dict[str, dict[str, Any]]] = {}
        self.groups: dict[str, dict[str, dict[str, Any]]] = {}
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.props = {ot: {p["name"]: p for p in default_properties(ot)} for ot in OBJECT_TYPES}
            self.groups = {
                ot: {name: make_group(name, label, order) for name, label, order in groups}
                for ot, groups in CATALOG_GROUPS.items()
            }

    def get(self, object_type: str, name: str) -> dict[str, Any] | None:
        prop = self.props[object_type].get(name)
        return prop if prop is not None and not prop["archived"] else None

    def active(self, object_type: str) -> list[dict[str, Any]]:
        return [p for p in self.props[object_type].values() if not p["archived"]]

    def is_unique(self, object_type: str, name: str) -> bool:
        prop = self.get(object_type, name)
        return bool(prop and prop.get("hasUniqueValue"))

    def unique_names(self, object_type: str) -> list[str]:
        return [p["name"] for p in self.active(object_type) if p.get("hasUniqueValue")]
