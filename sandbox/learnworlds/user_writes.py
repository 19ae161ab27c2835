"""How a write changes a stored User, shared by the public writes (POST/PUT /v2/users,
PUT /v2/users/{id}/tags) and the control API's hand edits, plus the sign-up rule checks.

Where the real API's behaviour is unconfirmed, the choices are marked "Guess:".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Any

from sandbox.learnworlds.config import SignupRules
from sandbox.learnworlds.errors import SignupValidationError
from sandbox.learnworlds.records import PROFILE_FIELDS, UTM_KEYS

FieldValue = str | int | float | bool | None
# The email format check every write applies (with or without sign-up rules).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

_KNOWN_FIELDS = frozenset(PROFILE_FIELDS)
_KNOWN_UTMS = frozenset(UTM_KEYS)
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-]+$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def merge_fields(user: dict[str, Any], fields: Mapping[str, FieldValue]) -> None:
    """Set the given profile fields, leaving the others as they are.

    Guess: a partial `fields` object updates only the keys it names (the spec does not say
    whether it replaces the whole object); keys that are neither a documented profile field
    nor a custom `cf_*` field are ignored, like unknown top-level keys.
    """
    merged = dict(user.get("fields") or {})
    for name, value in fields.items():
        if name in _KNOWN_FIELDS or name.startswith("cf_"):
            merged[name] = value
    user["fields"] = merged


def merge_utms(user: dict[str, Any], utms: Mapping[str, str | None]) -> None:
    """Set the given UTM keys. Guess: only the newer spec's 16 keys (`fc_utm_source`, ...,
    `lc_country`) are stored; others (e.g. the older cut's `fc_source`) are ignored."""
    merged = dict(user.get("utms") or {})
    merged.update((k, v) for k, v in utms.items() if k in _KNOWN_UTMS)
    user["utms"] = merged


def merge_billing(user: dict[str, Any], billing: Mapping[str, str | None]) -> None:
    merged = dict(user.get("billing_info") or {})
    merged.update(billing)
    user["billing_info"] = merged


def set_admin(user: dict[str, Any], is_admin: bool) -> None:
    """Guess: `is_admin` moves the user's role between admin and user (the spec only says
    whether the user "is an administrator"); other roles are kept when is_admin is false."""
    user["is_admin"] = is_admin
    role = user.get("role")
    level = role.get("level") if isinstance(role, dict) else role
    if is_admin:
        user["role"] = {"level": "admin", "name": "Admin"}
    elif level == "admin":
        user["role"] = {"level": "user", "name": "User"}


def _unique(tags: Iterable[str]) -> list[str]:
    # Guess: tags are compared exactly (case-sensitive) and empty strings are dropped.
    return list(dict.fromkeys(t for t in tags if t))


def attach_tags(user: dict[str, Any], tags: Iterable[str]) -> list[str]:
    """Append the tags the user does not have yet, in order; returns those added."""
    current = list(user.get("tags") or [])
    added = [t for t in _unique(tags) if t not in current]
    user["tags"] = current + added
    return added


def detach_tags(user: dict[str, Any], tags: Iterable[str]) -> list[str]:
    """Remove the given tags; returns those the user actually had."""
    current = list(user.get("tags") or [])
    drop = set(_unique(tags))
    user["tags"] = [t for t in current if t not in drop]
    return [t for t in current if t in drop]


def replace_tags(user: dict[str, Any], tags: Iterable[str]) -> tuple[list[str], list[str]]:
    """The user's tags become `tags` (deduplicated, in order); returns (added, removed)."""
    current = list(user.get("tags") or [])
    wanted = _unique(tags)
    user["tags"] = wanted
    return [t for t in wanted if t not in current], [t for t in current if t not in wanted]


def _label(name: str) -> str:
    # "company" -> 'Company' as in the spec's example message; "cf_skill" -> 'Skill'.
    return name.removeprefix("cf_").replace("_", " ").capitalize()


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def check_signup_rules(
    rules: SignupRules, user: dict[str, Any], sent: Mapping[str, FieldValue] | None
) -> None:
    """Raise `SignupValidationError` naming every failing field.

    Format rules apply to the non-empty values this write sends; required fields are checked
    on the user as it would be after the write. Guess: the real rules are per-school and
    unpublished; see `SignupRules` for the stand-ins.
    """
    problems: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        problems.setdefault(name, []).append(message)

    for name, value in (sent or {}).items():
        if value is None or value == "":
            continue
        text = str(value)
        label = _label(name)
        if len(text) > rules.max_length:
            fail(
                name, f"The '{label}' field may not be greater than {rules.max_length} characters."
            )
        if name in rules.phone_fields:
            digits = sum(c.isdigit() for c in text)
            shape_ok = bool(_PHONE_CHARS.match(text))
            if not (shape_ok and rules.phone_min_digits <= digits <= rules.phone_max_digits):
                fail(name, f"The '{label}' field must be a valid phone number.")
        if name in rules.url_fields and not _URL.match(text):
            fail(name, f"The '{label}' field must be a valid URL.")
        if name in rules.date_fields and not _is_date(text):
            fail(name, f"The '{label}' field must be a date in the format YYYY-MM-DD.")
    fields = user.get("fields") or {}
    for name in rules.required_fields:
        if fields.get(name) in (None, ""):
            fail(name, f"The '{_label(name)}' field is required.")
    if problems:
        raise SignupValidationError(problems)
