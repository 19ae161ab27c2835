"""Timeline event templates and events (CRM Timeline v3), held per portal.

Facts from reference/hubspot-api.md section 7 and the Timeline v3 spec (timeline.json):
- a template belongs to an app; at most 750 per app; token types string, number, date,
  enumeration (enumeration needs options); token names use letters, digits, `.`, `-`, `_`;
- an event names its template and its record by `objectId`, or for contacts by `email`
  (an unknown email creates the contact) or `utk`; token values come back as strings;
- an event `id` is unique per app and template; a second event with a used id is refused
  with HubSpot's 400 "Event ID already in use, please choose a new unique ID" (the Timeline
  API announcement "Timeline API IDs must be globally unique", live since 2021-04-21); events
  are immutable once created (spec, batch/create description).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .clock import ms_to_iso, now_iso, parse_datetime_ms

MAX_TEMPLATES_PER_APP = 750
TOKEN_TYPES = ("string", "number", "date", "enumeration")
TEMPLATE_OBJECT_TYPES = ("contacts", "companies", "deals", "tickets")
TOKEN_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
DUPLICATE_ID = "Event ID already in use, please choose a new unique ID"
PRIVATE_APP_REFUSAL = (
    "Private apps do not support custom timeline events. Timeline events can only be sent "
    "by a public app with OAuth access."
)


class TimelineInvalid(Exception):
    """One input refused: (status, category, message, context)."""

    def __init__(
        self, status: int, category: str, message: str, context: dict[str, list[str]]
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.context = context


def invalid(message: str, **context: str) -> TimelineInvalid:
    return TimelineInvalid(400, "VALIDATION_ERROR", message, {k: [v] for k, v in context.items()})


@dataclass
class Template:
    id: str
    app_id: int
    name: str
    object_type: str
    header_template: str | None
    detail_template: str | None
    tokens: list[dict[str, Any]]
    created_at: str
    updated_at: str

    def token(self, name: str) -> dict[str, Any] | None:
        return next((t for t in self.tokens if t["name"] == name), None)

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "objectType": self.object_type,
            "tokens": [dict(t) for t in self.tokens],
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }
        if self.header_template is not None:
            out["headerTemplate"] = self.header_template
        if self.detail_template is not None:
            out["detailTemplate"] = self.detail_template
        return out


@dataclass
class TimelineState:
    templates: dict[str, Template] = field(default_factory=dict)
    # (template id, event id) -> the event as HubSpot returns it
    events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    next_template_id: int = 1_001_000

    def clear(self) -> None:
        self.templates.clear()
        self.events.clear()
        self.next_template_id = 1_001_000

    def new_template_id(self) -> str:
        self.next_template_id += 1
        return str(self.next_template_id)

    def of_app(self, app_id: int) -> list[Template]:
        return [t for t in self.templates.values() if t.app_id == app_id]

    def snapshot(self) -> dict[str, Any]:
        return {
            "templates": [t.body() | {"appId": t.app_id} for t in self.templates.values()],
            "events": list(self.events.values()),
        }


def check_token(raw: Any, *, existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """A template token as stored and returned; TimelineInvalid when HubSpot would refuse it."""
    if not isinstance(raw, dict):
        raise invalid("Each token must be an object")
    name = raw.get("name") if existing is None else existing["name"]
    ttype = raw.get("type") if existing is None else existing["type"]
    if not isinstance(name, str) or not TOKEN_NAME.match(name):
        raise invalid(
            f"Token name {name!r} is invalid: it may only contain alphanumeric characters, "
            "periods, dashes, or underscores",
            name=str(name),
        )
    if ttype not in TOKEN_TYPES:
        raise invalid(
            f"Token {name} has an invalid type {ttype!r}; use one of {', '.join(TOKEN_TYPES)}",
            name=name,
        )
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise invalid(f"Token {name} needs a label", name=name)
    options = raw.get("options") or []
    if not isinstance(options, list) or not all(
        isinstance(o, dict) and isinstance(o.get("value"), str) and isinstance(o.get("label"), str)
        for o in options
    ):
        raise invalid(f"Token {name} options must be a list of {{label, value}}", name=name)
    if ttype == "enumeration" and not options:
        raise invalid(f"Token {name} is of type enumeration and needs options", name=name)
    stamp = now_iso()
    token: dict[str, Any] = {
        "name": name,
        "label": label,
        "type": ttype,
        "options": [{"label": o["label"], "value": o["value"]} for o in options],
        "createdAt": existing["createdAt"] if existing else stamp,
        "updatedAt": stamp,
    }
    prop = raw.get("objectPropertyName")
    if prop is not None:
        if not isinstance(prop, str):
            raise invalid(f"Token {name} objectPropertyName must be a string", name=name)
        token["objectPropertyName"] = prop
    return token


def check_tokens(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise invalid("tokens must be a list")
    tokens = [check_token(t) for t in raw]
    names = [t["name"] for t in tokens]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise invalid(f"Token names must be unique in a template: {', '.join(dupes)}")
    return tokens


def token_value(template: Template, name: str, value: Any) -> str:
    """The token value as HubSpot stores and echoes it (a string), or TimelineInvalid."""
    token = template.token(name)
    if token is None:
        raise invalid(
            f"Token {name} is not defined on event template {template.id}",
            eventTemplateId=template.id,
            token=name,
        )
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"Token {name} must be a string, number or date value", token=name)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    ttype = token["type"]
    if ttype == "number":
        try:
            float(text)
        except ValueError:
            raise invalid(f"Token {name} must be a number, got {text!r}", token=name) from None
    elif ttype == "date":
        if parse_datetime_ms(text) is None:
            raise invalid(
                f"Token {name} must be a date (epoch milliseconds or ISO-8601), got {text!r}",
                token=name,
            )
    elif ttype == "enumeration":
        allowed = [o["value"] for o in token["options"]]
        if text not in allowed:
            raise invalid(f"Token {name} must be one of {allowed}, got {text!r}", token=name)
    return text


def event_timestamp(value: Any) -> str:
    if value is None:
        return now_iso()
    ms = parse_datetime_ms(str(value)) if isinstance(value, str | int) else None
    if ms is None:
        raise invalid(f"timestamp must be an ISO-8601 date-time, got {value!r}")
    return ms_to_iso(ms)


def event_id(raw: Any, app_id: int, template_id: str, who: str) -> str:
    if raw is None or raw == "":
        return f"{app_id}:{template_id}:{who}-{uuid.uuid4()}"
    if not isinstance(raw, str | int):
        raise invalid("id must be a string")
    # `{{uuid}}` anywhere in the id becomes a fresh uuid (spec, TimelineEvent.id).
    return str(raw).replace("{{uuid}}", str(uuid.uuid4()))
