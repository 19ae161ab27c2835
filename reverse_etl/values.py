"""Turn warehouse values into HubSpot wire strings, rejecting what HubSpot would reject.

Catching a bad value here costs nothing; sending it costs a call and, without trace ids, the
whole batch. The rules follow HubSpot's validation: numbers without exponents, dates at
midnight UTC, enumeration values among the declared options.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

from reverse_etl.config import FieldSpec

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidValue(ValueError):
    """A value HubSpot would reject; the message says which property and why."""

    def __init__(self, prop: str, code: str, message: str) -> None:
        super().__init__(f"{prop}: {message}")
        self.prop = prop
        self.code = code


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _number(prop: str, value: object) -> str:
    if isinstance(value, bool):
        raise InvalidValue(prop, "INVALID_INTEGER", f"{value!r} is a boolean, not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidValue(prop, "INVALID_INTEGER", f"{value!r} is not a finite number")
        # repr is the shortest exact form; Decimal's 'f' format never uses an exponent.
        text = format(Decimal(repr(value)), "f")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValue(prop, "INVALID_INTEGER", f"{value!r} is not a finite number")
        text = format(value, "f")
    else:
        text = str(value).strip()
        if not _NUMBER.match(text):
            raise InvalidValue(
                prop,
                "INVALID_INTEGER",
                f"{text!r} is not a plain decimal number (no exponent, commas or spaces)",
            )
        return text
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _bool(prop: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text
    raise InvalidValue(prop, "INVALID_BOOLEAN", f"{value!r} is not true or false")


def _date(prop: str, value: object) -> str:
    if isinstance(value, datetime):
        moment = _utc(value)
        if moment.time() != time(0):
            raise InvalidValue(
                prop,
                "INVALID_DATE",
                f"{moment.isoformat()} is at {moment.time().isoformat()} UTC, not midnight",
            )
        return moment.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if _DATE.match(text):
        try:
            date.fromisoformat(text)
        except ValueError:
            pass
        else:
            return text
    raise InvalidValue(prop, "INVALID_DATE", f"{text!r} is not a YYYY-MM-DD date")


def _datetime(prop: str, value: object) -> str:
    if isinstance(value, datetime):
        moment = _utc(value)
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0), tzinfo=UTC)
    else:
        text = str(value).strip()
        try:
            moment = _utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise InvalidValue(
                prop, "INVALID_DATETIME", f"{text!r} is not an ISO-8601 date-time"
            ) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _enumeration(spec: FieldSpec, value: object) -> str:
    text = _bool(spec.property, value) if isinstance(value, bool) else str(value)
    if spec.options is not None:
        allowed = [o.value for o in spec.options]
        parts = text.split(";") if spec.field_type == "checkbox" else [text]
        for part in parts:
            if part and part not in allowed:
                raise InvalidValue(
                    spec.property,
                    "INVALID_OPTION",
                    f"{part!r} was not one of the allowed options: {allowed}",
                )
    return text


def to_wire(spec: FieldSpec, value: object) -> str | None:
    """The string HubSpot expects for this property, or None for a missing value."""
    if value is None:
        return None
    match spec.type:
        case "number":
            return _number(spec.property, value)
        case "bool":
            return _bool(spec.property, value)
        case "date":
            return _date(spec.property, value)
        case "datetime":
            return _datetime(spec.property, value)
        case "enumeration":
            return _enumeration(spec, value)
        case _:
            return str(value)
