"""Checks property values against their definitions and normalizes them to wire strings.

The messages and codes follow what HubSpot sends (INVALID_INTEGER, INVALID_DATE, ...); a
failing write is reported all at once as HubSpot's "Property values were not valid" body.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from .clock import ms_to_iso, parse_datetime_ms
from .errors import HubSpotError
from .propdefs import PropertyRegistry

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
MAX_STRING = 65536
DAY_MS = 86_400_000


@dataclass(frozen=True)
class PropError:
    name: str
    code: str
    message: str
    value: str | None = None


def _wire_text(value: Any) -> str | None:
    """JSON scalars become the strings HubSpot stores; None for non-scalars."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    if isinstance(value, str):
        return value
    return None


def _check_number(name: str, text: str) -> tuple[str | None, PropError | None]:
    cleaned = text.strip()
    if not _NUMBER.match(cleaned):
        return None, PropError(name, "INVALID_INTEGER", f"{text} was not a valid number.", text)
    return cleaned, None


def _check_bool(name: str, text: str) -> tuple[str | None, PropError | None]:
    if text in ("true", "false"):
        return text, None
    return None, PropError(
        name, "INVALID_BOOLEAN", f"{text} is not a valid boolean value: use true or false", text
    )


def _check_date(name: str, text: str) -> tuple[str | None, PropError | None]:
    cleaned = text.strip()
    if _DATE.match(cleaned):
        try:
            date.fromisoformat(cleaned)
        except ValueError:
            pass
        else:
            return cleaned, None
    elif cleaned.lstrip("-").isdigit():
        ms = int(cleaned)
        if ms % DAY_MS == 0:
            return ms_to_iso(ms)[:10], None
        iso = ms_to_iso(ms)
        return None, PropError(
            name, "INVALID_DATE", f"{text} is at {iso[11:23]} UTC, not midnight!", text
        )
    return None, PropError(name, "INVALID_DATE", f"{text} was not a valid date.", text)


def _check_datetime(name: str, text: str) -> tuple[str | None, PropError | None]:
    ms = parse_datetime_ms(text)
    if ms is None:
        return None, PropError(
            name, "INVALID_DATETIME", f"{text} was not a valid datetime value.", text
        )
    return ms_to_iso(ms), None


def _check_enum(
    name: str, text: str, prop: dict[str, Any], current: str | None
) -> tuple[str | None, PropError | None]:
    allowed = [o["value"] for o in prop.get("options", [])]
    if not allowed and prop.get("externalOptions"):
        return text, None  # options live elsewhere (owners, pipelines): not checked here
    multi = prop.get("fieldType") == "checkbox"
    parts = [p for p in text.split(";") if p] if multi else [text]
    for part in parts:
        if part not in allowed:
            return None, PropError(
                name,
                "INVALID_OPTION",
                f"{part} was not one of the allowed options: [{', '.join(allowed)}]",
                text,
            )
    if multi and text.startswith(";") and current:
        # A leading ";" appends to the existing selection instead of replacing it.
        existing = current.split(";")
        parts = existing + [p for p in parts if p not in existing]
    return ";".join(parts), None


def _check_string(object_type: str, name: str, text: str) -> tuple[str | None, PropError | None]:
    if len(text) > MAX_STRING:
        return None, PropError(
            name, "INVALID_STRING_LENGTH", f"value for {name} is longer than {MAX_STRING}", None
        )
    if object_type == "contacts" and name == "email":
        email = text.strip().lower()
        if not _EMAIL.match(email):
            return None, PropError(name, "INVALID_EMAIL", f"Email address {text} is invalid", text)
        return email, None
    if object_type == "contacts" and name == "hs_additional_emails":
        emails = [e.strip().lower() for e in text.split(";") if e.strip()]
        for email in emails:
            if not _EMAIL.match(email):
                return None, PropError(
                    name, "INVALID_EMAIL", f"Email address {email} is invalid", text
                )
        return ";".join(emails), None
    return text, None


def check_value(
    registry: PropertyRegistry,
    object_type: str,
    name: str,
    raw: Any,
    current: str | None = None,
) -> tuple[str | None, PropError | None]:
    """The normalized wire value, or the error HubSpot would report for it."""
    prop = registry.get(object_type, name)
    if prop is None:
        return None, PropError(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
    meta = prop.get("modificationMetadata", {})
    if prop.get("calculated") or meta.get("readOnlyValue"):
        return None, PropError(
            name, "READ_ONLY_VALUE", f'"{name}" is a calculated property; its value cannot be set.'
        )
    text = _wire_text(raw)
    if text is None:
        return None, PropError(name, "INVALID_VALUE", f"{name} must be a string, number or bool")
    if text == "":
        return "", None  # "" clears the value, whatever the type
    ptype = prop["type"]
    if ptype == "number":
        if isinstance(raw, float) and "e" in repr(raw).lower():
            return None, PropError(
                name, "INVALID_INTEGER", f"{raw!r} was not a valid number.", repr(raw)
            )
        return _check_number(name, text)
    if ptype == "bool":
        return _check_bool(name, text)
    if ptype == "date":
        return _check_date(name, text)
    if ptype == "datetime":
        return _check_datetime(name, text)
    if ptype == "enumeration":
        return _check_enum(name, text, prop, current)
    return _check_string(object_type, name, text)


def check_properties(
    registry: PropertyRegistry,
    object_type: str,
    props: dict[str, Any],
    current: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[PropError]]:
    clean: dict[str, str] = {}
    errors: list[PropError] = []
    existing = current or {}
    for name, raw in props.items():
        value, error = check_value(registry, object_type, name, raw, existing.get(name))
        if error is not None:
            errors.append(error)
        elif value is not None:
            clean[name] = value
    return clean, errors


def error_message(errors: list[PropError], portal_id: int) -> str:
    items = []
    for e in errors:
        item: dict[str, Any] = {
            "isValid": False,
            "message": e.message,
            "error": e.code,
            "name": e.name,
            "localizedErrorMessage": e.message,
            "portalId": portal_id,
        }
        if e.value is not None and e.code == "INVALID_INTEGER":
            item["propertyValue"] = e.value
        items.append(item)
    return "Property values were not valid: " + json.dumps(items)


def error_details(errors: list[PropError]) -> list[dict[str, Any]]:
    return [
        {"message": e.message, "code": e.code, "context": {"propertyName": [e.name]}}
        for e in errors
    ]


def properties_error(errors: list[PropError], portal_id: int) -> HubSpotError:
    return HubSpotError(
        400,
        "VALIDATION_ERROR",
        error_message(errors, portal_id),
        errors=error_details(errors),
    )
