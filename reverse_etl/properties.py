"""Property setup: make sure the group and every mapped property exist with matching types.

Runs before any record write. A property that exists with another type or fieldType stops
the sync here, because writing would either be rejected row by row or, worse, be coerced.
An enumeration we own that lacks declared options (a new attribution_models seed row) gets
them with one PATCH per property, keeping the options HubSpot has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmsbridge_core.errors import ConfigurationError
from lmsbridge_core.http import body_message
from reverse_etl.client import HubSpotClient
from reverse_etl.config import FieldSpec, Option, PropertyGroup, Sync

PROPERTY_BATCH = 100


class SchemaError(ConfigurationError):
    """The HubSpot schema does not fit the sync config; the message says how to fix it."""


@dataclass
class OptionsUpdate:
    """An existing enumeration lacking some declared options: HubSpot's options (kept, since
    records may hold them) followed by the missing ones."""

    spec: FieldSpec
    existing: list[dict[str, Any]]
    missing: list[Option]

    def body(self) -> dict[str, Any]:
        """The PATCH body: HubSpot replaces the whole list, so it carries every option."""
        keep = [{k: o[k] for k in _OPTION_KEYS if k in o} for o in self.existing]
        orders = [o["displayOrder"] for o in keep if isinstance(o.get("displayOrder"), int)]
        start = max(orders, default=-1) + 1
        added = [
            {"label": o.label, "value": o.value, "displayOrder": start + i, "hidden": False}
            for i, o in enumerate(self.missing)
        ]
        return {"options": keep + added}


# The fields of HubSpot's OptionInput: anything else on a read option is not accepted back.
_OPTION_KEYS = ("label", "value", "displayOrder", "hidden", "description")


@dataclass
class SchemaCheck:
    missing: list[FieldSpec] = field(default_factory=list)
    options: list[OptionsUpdate] = field(default_factory=list)
    group_missing: bool = False
    calls: int = 0


def _mismatch(spec: FieldSpec, existing: dict[str, Any], object_type: str) -> str | None:
    have_type, have_field = existing.get("type"), existing.get("fieldType")
    if spec.hubspot_defined:
        # HubSpot owns these definitions (fieldTypes vary by portal); only a value type we
        # would format differently matters, and text vs option ids are both plain strings.
        textual = {"string", "enumeration"}
        if have_type == spec.type or {have_type, spec.type} <= textual:
            return None
    elif have_type == spec.type and have_field == spec.field_type:
        return None
    return (
        f"{object_type} property {spec.property!r} exists in HubSpot as type={have_type}/"
        f"fieldType={have_field}, but the sync config declares type={spec.type}/"
        f"fieldType={spec.field_type}. Fix: change the field's type in reverse_etl/syncs.yml "
        f"to match HubSpot, or map the column to a new property name (HubSpot cannot change "
        f"a property's type in place while it holds values)."
    )


def _options_update(spec: FieldSpec, existing: dict[str, Any]) -> OptionsUpdate | None:
    """Declared options the property lacks (ours only: HubSpot-defined options are not ours
    to extend); None when nothing is missing."""
    if spec.type != "enumeration" or spec.hubspot_defined or not spec.options:
        return None
    current = [o for o in existing.get("options") or [] if isinstance(o, dict)]
    have = {o.get("value") for o in current}
    missing = [o for o in spec.options if o.value not in have]
    return OptionsUpdate(spec, current, missing) if missing else None


def check_schema(client: HubSpotClient, sync: Sync) -> SchemaCheck:
    """Read-only: what is missing, and raise on any type mismatch."""
    check = SchemaCheck()
    listing = client.list_properties(sync.object_type)
    check.calls += 1
    if not listing.ok:
        raise SchemaError(
            f"could not read {sync.object_type} properties: HTTP {listing.status} "
            f"{body_message(listing.body)}"
        )
    existing = {p.get("name"): p for p in (listing.body or {}).get("results", [])}
    problems = []
    for spec in sync.fields.values():
        found = existing.get(spec.property)
        if found is None:
            if spec.hubspot_defined:
                problems.append(
                    f"{sync.object_type} property {spec.property!r} is declared hubspot_defined "
                    "but does not exist in HubSpot. Fix: remove hubspot_defined from the field "
                    "so it is created, or map the column to an existing property."
                )
            else:
                check.missing.append(spec)
            continue
        problem = _mismatch(spec, found, sync.object_type)
        if problem:
            problems.append(problem)
        elif (update := _options_update(spec, found)) is not None:
            check.options.append(update)
        elif spec.unique and not found.get("hasUniqueValue"):
            problems.append(
                f"{sync.object_type} property {spec.property!r} exists without hasUniqueValue, "
                "so it cannot be an upsert key (and HubSpot cannot change that later). Fix: "
                "map the key to a new property name so it is created as unique."
            )
    if check.missing:
        # An archived property keeps its name, so creating it again would fail (409).
        archived = client.list_properties(sync.object_type, archived=True)
        check.calls += 1
        names = (
            {p.get("name") for p in (archived.body or {}).get("results", [])}
            if archived.ok
            else set()
        )
        for spec in [s for s in check.missing if s.property in names]:
            problems.append(
                f"{sync.object_type} property {spec.property!r} is archived in HubSpot. Fix: "
                "restore it (HubSpot settings > Properties > Archived properties) or map the "
                "column to a new property name in reverse_etl/syncs.yml."
            )
    if problems:
        raise SchemaError("; ".join(problems))
    if check.missing:
        group = client.get_group(sync.object_type, sync.property_group)
        check.calls += 1
        check.group_missing = group.status == 404
    return check


def _definition(spec: FieldSpec, group: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": spec.property,
        "label": spec.label or spec.property.replace("_", " ").capitalize(),
        "type": spec.type,
        "fieldType": spec.field_type,
        "groupName": group,
        "hasUniqueValue": spec.unique,
        "description": "Written by lmsbridge reverse ETL.",
    }
    if spec.type == "enumeration":
        body["options"] = [
            {"label": o.label, "value": o.value, "displayOrder": i, "hidden": False}
            for i, o in enumerate(spec.options or ())
        ]
    if spec.type == "bool":
        body["options"] = [
            {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
            {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
        ]
    return body


def ensure_schema(client: HubSpotClient, sync: Sync, group: PropertyGroup) -> int:
    """Create the group and missing properties (batched); return the number of calls made."""
    check = check_schema(client, sync)
    calls = check.calls
    if check.group_missing:
        created = client.create_group(sync.object_type, sync.property_group, group.label)
        calls += 1
        if not created.ok and created.status != 409:
            raise SchemaError(
                f"could not create property group {sync.property_group!r} on "
                f"{sync.object_type}: HTTP {created.status} {body_message(created.body)}"
            )
    for i in range(0, len(check.missing), PROPERTY_BATCH):
        chunk = check.missing[i : i + PROPERTY_BATCH]
        created = client.create_properties(
            sync.object_type, [_definition(s, sync.property_group) for s in chunk]
        )
        calls += 1
        if not created.ok:
            raise SchemaError(
                f"could not create {sync.object_type} properties "
                f"{[s.property for s in chunk]}: HTTP {created.status} {body_message(created.body)}"
            )
        if created.status == 207:
            errors = (created.body or {}).get("errors", [])
            raise SchemaError(
                f"HubSpot created only some {sync.object_type} properties: "
                + "; ".join(body_message(e) for e in errors)
            )
    for update in check.options:
        calls += 1
        patched = client.update_property(sync.object_type, update.spec.property, update.body())
        if not patched.ok:
            added = [o.value for o in update.missing]
            raise SchemaError(
                f"could not add options {added} to {sync.object_type} property "
                f"{update.spec.property!r}: HTTP {patched.status} {body_message(patched.body)}"
            )
    return calls
