"""Who changed a HubSpot property: a person, another integration, lmsbridge itself, or unknown.

HubSpot keeps each property's versions (`propertiesWithHistory`, newest first), each with a
`sourceType` (CRM_UI for the web app, MOBILE_* for the apps, IMPORT, INTEGRATION for an app,
API for older keys, AUTOMATION_PLATFORM for workflows, ...) and a `sourceId` (a user, or the
app id for INTEGRATION). Our own writes are recognised without configuration: the version
holding a value HubSpot confirmed to us, written by an API writer, carries our
(sourceType, sourceId) - a private app's id on the real API, ("API", "private-app") on the
emulator. A newer version with that signature is ours too (a run that wrote but stopped before
recording it); any other API writer is another integration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reverse_etl.field_plan import canonical

PERSON, INTEGRATION, LMSBRIDGE, UNKNOWN = "person", "integration", "lmsbridge", "unknown"
# Sources where a person typed or uploaded the value (a form: the contact themself).
PERSON_SOURCES = frozenset({"CRM_UI", "MOBILE_IOS", "MOBILE_ANDROID", "IMPORT", "FORM"})
API_WRITERS = frozenset({"API", "INTEGRATION"})
Signature = tuple[str, str]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Version:
    value: str | None
    timestamp: datetime | None
    source_type: str
    source_id: str
    source_label: str | None = None
    user_id: str | None = None

    @property
    def signature(self) -> Signature:
        return (self.source_type, self.source_id)

    @property
    def source(self) -> str:
        """What people read: `CRM_UI (userId:1)`, `INTEGRATION (My app)`."""
        who = self.source_label or self.source_id
        return f"{self.source_type} ({who})" if who else self.source_type


@dataclass(frozen=True)
class Editor:
    edited_by: str
    edited_source: str | None = None
    edited_at: datetime | None = None


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def versions(record: Mapping[str, Any], prop: str) -> list[Version]:
    """A record's versions of one property, newest first, from a batch/read result."""
    history = record.get("propertiesWithHistory") or {}
    out = []
    for item in history.get(prop) or []:
        if not isinstance(item, dict):
            continue
        user = item.get("updatedByUserId")
        out.append(
            Version(
                value=None if item.get("value") is None else str(item["value"]),
                timestamp=_timestamp(item.get("timestamp")),
                source_type=str(item.get("sourceType") or ""),
                source_id=str(item.get("sourceId") or ""),
                source_label=item.get("sourceLabel") or None,
                user_id=None if user is None else str(user),
            )
        )
    # HubSpot lists newest first; sorting (stable) keeps that true whatever the order sent.
    return sorted(out, key=lambda v: v.timestamp or _EPOCH, reverse=True)


def same(a: str | None, b: str | None) -> bool:
    """Whether two wire values mean the same (HubSpot reformats numbers and datetimes)."""
    if a is None or b is None or a == "" or b == "":
        return (a or "") == (b or "")
    return a == b or any(
        canonical(kind, a) == canonical(kind, b) for kind in ("number", "datetime")
    )


def our_signatures(history: Iterable[Version], confirmed: str | None) -> set[Signature]:
    """The signature of the newest API write of a value HubSpot confirmed to us: ours. Only
    the newest: another app may have written the same value long before us."""
    for v in history:
        if v.source_type in API_WRITERS and same(v.value, confirmed):
            return {v.signature}
    return set()


def classify(history: list[Version], ours: set[Signature]) -> Editor:
    """Who wrote the newest version (HubSpot's current value)."""
    if not history:
        return Editor(UNKNOWN)
    newest = history[0]
    if newest.signature in ours:
        who = LMSBRIDGE
    elif newest.source_type in PERSON_SOURCES:
        who = PERSON
    elif newest.source_type in API_WRITERS:
        who = INTEGRATION
    else:
        who = UNKNOWN
    return Editor(who, newest.source, newest.timestamp)
