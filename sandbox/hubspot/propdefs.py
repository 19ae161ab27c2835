"""Property definitions and groups: the seeded HubSpot defaults plus the portal's custom ones."""

from __future__ import annotations

import re
import threading
from typing import Any

from .clock import now_iso
from .objecttypes import OBJECT_TYPES

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

DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)

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

DEFAULT_GROUPS = {
    "contacts": ("contactinformation", "Contact information"),
    "companies": ("companyinformation", "Company information"),
    "deals": ("dealinformation", "Deal information"),
    "tasks": ("task", "Task information"),
    "notes": ("note", "Note information"),
}


def _options(values: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"label": v.replace("_", " ").title(), "value": v, "displayOrder": i, "hidden": False}
        for i, v in enumerate(values)
    ]


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


def _common(group: str, created: str, modified: str) -> list[dict[str, Any]]:
    return [
        make_property("hs_object_id", "number", "number", group, label="Record ID", read_only=True),
        make_property(created, "datetime", "date", group, label="Create date", read_only=True),
        make_property(modified, "datetime", "date", group, label="Last modified", read_only=True),
        make_property(
            "hubspot_owner_id",
            "enumeration",
            "select",
            group,
            label="Owner",
            external_options=True,
            referenced_object_type="OWNER",
        ),
    ]


def _lifecycle(group: str) -> list[dict[str, Any]]:
    props = [
        make_property(
            "lifecyclestage", "enumeration", "radio", group, options=_options(LIFECYCLE_STAGES)
        )
    ]
    props += [
        make_property(f"hs_lifecyclestage_{s}_date", "datetime", "date", group, read_only=True)
        for s in LIFECYCLE_STAGES
    ]
    return props


def _text(group: str, *names: str) -> list[dict[str, Any]]:
    return [make_property(n, "string", "text", group) for n in names]


def default_properties(object_type: str) -> list[dict[str, Any]]:
    group = DEFAULT_GROUPS[object_type][0]
    ot = OBJECT_TYPES[object_type]
    props = _common(group, ot.created_prop, ot.modified_prop)
    if object_type == "contacts":
        props += _text(
            group, "email", "firstname", "lastname", "phone", "mobilephone", "fax", "company"
        )
        props += _text(group, "website", "jobtitle", "city", "country")
        props += _lifecycle(group)
        props += [
            make_property("hs_lastmodifieddate", "datetime", "date", group, read_only=True),
            make_property("hs_additional_emails", "string", "textarea", group),
            make_property("hs_merged_object_ids", "enumeration", "checkbox", group, read_only=True),
            make_property("hubspotscore", "number", "number", group, calculated=True),
        ]
    elif object_type == "companies":
        props += _text(group, "name", "domain", "website", "phone", "industry", "city", "country")
        props += _lifecycle(group)
        props += [
            make_property("numberofemployees", "number", "number", group),
            make_property("annualrevenue", "number", "number", group),
        ]
    elif object_type == "deals":
        props += _text(group, "dealname", "description")
        props += [
            make_property("amount", "number", "number", group),
            make_property("closedate", "datetime", "date", group),
            make_property(
                "dealstage",
                "enumeration",
                "radio",
                group,
                options=_options(DEAL_STAGES),
                external_options=True,
            ),
            make_property(
                "pipeline",
                "enumeration",
                "select",
                group,
                options=_options(("default",)),
                external_options=True,
            ),
            make_property(
                "dealtype",
                "enumeration",
                "radio",
                group,
                options=_options(("newbusiness", "existingbusiness")),
            ),
            make_property("hs_is_closed_won", "bool", "booleancheckbox", group, calculated=True),
            make_property("hs_is_closed", "bool", "booleancheckbox", group, calculated=True),
            make_property("hs_deal_stage_probability", "number", "number", group, calculated=True),
            make_property("days_to_close", "number", "number", group, calculated=True),
        ]
    elif object_type == "tasks":
        props += [
            make_property("hs_timestamp", "datetime", "date", group, label="Due date"),
            make_property("hs_task_subject", "string", "text", group),
            make_property("hs_task_body", "string", "html", group),
            make_property(
                "hs_task_status",
                "enumeration",
                "select",
                group,
                options=_options(
                    ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")
                ),
            ),
            make_property(
                "hs_task_priority",
                "enumeration",
                "select",
                group,
                options=_options(("NONE", "LOW", "MEDIUM", "HIGH")),
            ),
            make_property(
                "hs_task_type",
                "enumeration",
                "select",
                group,
                options=_options(("TODO", "EMAIL", "CALL")),
            ),
            make_property("hs_task_reminders", "string", "text", group),
        ]
    elif object_type == "notes":
        props += [
            make_property("hs_timestamp", "datetime", "date", group, label="Activity date"),
            make_property("hs_note_body", "string", "html", group),
            make_property("hs_attachment_ids", "string", "text", group),
        ]
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
                ot: {name: make_group(name, label, 0)}
                for ot, (name, label) in DEFAULT_GROUPS.items()
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
