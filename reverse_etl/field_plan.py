"""The two-way field plan: for each learner and mapped field, which way a value goes and why.

A three-way comparison. `agreed` is the value both sides last held as far as we know (a value
we wrote and the other side confirmed, or one both sides showed at once); a side whose
current value differs from it has changed since. So a value lmsbridge wrote is never sent
back (after our write both sides equal `agreed`), a hand edit on one side goes to the other
if the mapping's direction allows it, and a `both` field changed on both sides goes by the
mapping's winner, the same way every run.

A full resync (`direction` given) forgets `agreed` and aligns every differing value the way
asked, within what each mapping allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Literal, NamedTuple

from reverse_etl.mappings import FieldMapping

Way = Literal["to_hubspot", "to_lms"]


class Recorded(NamedTuple):
    """What field_state holds for one learner and mapping."""

    agreed: str | None
    rejected: str | None
    written_to: str | None
    written_at: datetime | None


ResyncDirection = Literal["to_hubspot", "to_lms", "both"]
TAG_SEPARATOR = ";"


def canonical(kind: str, value: str | None) -> str | None:
    """One text form per value, so the same value read from either side compares equal."""
    if value is None:
        return None
    text = value.strip()
    if text == "":
        return None
    try:
        if kind == "number":
            number = Decimal(text)
            if not number.is_finite():
                return text
            out = format(number.normalize(), "f")
            return "0" if out in ("-0", "") else out
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1", "yes", "on"):
                return "true"
            if lowered in ("false", "0", "no", "off"):
                return "false"
            return text
        if kind == "datetime":
            moment = _moment(text)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        if kind == "date":
            return _moment(text).date().isoformat()
    except (InvalidOperation, ValueError):
        return text
    return text


def _moment(text: str) -> datetime:
    if text.isdigit():
        # HubSpot datetimes may come as epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def tag_set(value: str | None) -> frozenset[str]:
    if not value:
        return frozenset()
    return frozenset(t.strip() for t in value.split(TAG_SEPARATOR) if t.strip())


def tag_text(tags: Iterable[str]) -> str | None:
    ordered = sorted(set(tags))
    return TAG_SEPARATOR.join(ordered) if ordered else None


def normalize(mapping: FieldMapping, value: str | None) -> str | None:
    if mapping.lms == "tags":
        return tag_text(tag_set(value))
    return canonical(mapping.type, value)


@dataclass(frozen=True)
class FieldRow:
    """One learner's values for one mapping, as the warehouse has them now."""

    learner_key: str
    lms_user_id: str
    hubspot_contact_id: str
    mapping: FieldMapping
    lms_value: str | None
    hubspot_value: str | None
    # When the extract read each side's copy (None: unknown).
    lms_read_at: datetime | None = None
    hubspot_read_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    row: FieldRow
    way: Way | None  # None: nothing to send
    value: str | None  # the value the target side gets (and then both agree on)
    reason: str
    # The value to record as agreed without sending anything (both sides already equal).
    agree: str | None = None
    agreed_changed: bool = False


@dataclass
class FieldPlan:
    decisions: list[Decision] = field(default_factory=list)
    unchanged: int = 0

    def writes(self, way: Way) -> list[Decision]:
        return [d for d in self.decisions if d.way == way]

    @property
    def agreements(self) -> list[Decision]:
        return [d for d in self.decisions if d.way is None and d.agreed_changed]

    def to_hubspot_by_contact(self) -> dict[str, list[Decision]]:
        grouped: dict[str, list[Decision]] = {}
        for d in self.writes("to_hubspot"):
            grouped.setdefault(d.row.hubspot_contact_id, []).append(d)
        return grouped

    def to_lms_by_learner(self) -> dict[str, list[Decision]]:
        grouped: dict[str, list[Decision]] = {}
        for d in self.writes("to_lms"):
            grouped.setdefault(d.row.lms_user_id, []).append(d)
        return grouped

    def summary(self) -> dict[str, int]:
        return {
            "to_hubspot": len(self.writes("to_hubspot")),
            "to_lms": len(self.writes("to_lms")),
            "agreed": len(self.agreements),
            "unchanged": self.unchanged,
            "held": sum(1 for d in self.decisions if d.way is None and not d.agreed_changed),
        }


_UNSET = object()


def decide(
    row: FieldRow,
    agreed: str | object | None = _UNSET,
    *,
    rejected: str | None = None,
    resync: ResyncDirection | None = None,
    written_to: str | None = None,
    written_at: datetime | None = None,
) -> Decision | None:
    """The decision for one row; None when both sides already agree with what we recorded.

    `agreed` is _UNSET when nothing was ever recorded for this learner and field. `rejected`
    is a value the LMS refused before: it is not sent again until it changes. `written_to`/
    `written_at`: our last write; that side's copy read before it is stale (it cannot show
    the write) and counts as holding the agreed value.
    """
    mapping = row.mapping
    lms = normalize(mapping, row.lms_value)
    hub = normalize(mapping, row.hubspot_value)
    known = agreed is not _UNSET and resync is None
    base = agreed if known else None
    if known and written_at is not None:
        if written_to == "lms" and _read_before(row.lms_read_at, written_at):
            lms = base  # type: ignore[assignment]
        if written_to == "hubspot" and _read_before(row.hubspot_read_at, written_at):
            hub = base  # type: ignore[assignment]
    if lms == hub:
        if known and base == lms:
            return None
        return Decision(row, None, None, "both sides hold the same value", lms, True)
    lms_changed = not known or lms != base
    hub_changed = not known or hub != base
    allowed_to_hubspot = mapping.direction in ("to_hubspot", "both")
    allowed_to_lms = mapping.direction in ("to_lms", "both")
    if resync is not None:
        wanted = _by_rule(mapping, lms, hub) if resync == "both" else resync
        if (lms if wanted == "to_hubspot" else hub) is None:
            # A resync fills and overwrites; an empty source never wipes the other side.
            return Decision(row, None, None, f"resync {resync}: nothing at the source side")
        if wanted == "to_hubspot" and allowed_to_hubspot:
            return Decision(row, "to_hubspot", lms, "resync: the LMS value is copied to HubSpot")
        if wanted == "to_lms" and allowed_to_lms:
            return _to_lms(row, hub, "resync: the HubSpot value is copied to the LMS", rejected)
        return Decision(row, None, None, f"resync {resync}: not allowed by {mapping.direction}")
    if lms_changed and hub_changed:
        # Both moved since the last agreement (or nothing was ever agreed).
        if mapping.direction == "both":
            way = _by_rule(mapping, lms, hub)
            if way == "to_hubspot":
                return Decision(row, way, lms, f"changed on both sides: {mapping.winner} wins")
            return _to_lms(row, hub, f"changed on both sides: {mapping.winner} wins", rejected)
        source = lms if allowed_to_hubspot else hub
        if source is None:
            # Never seen before and empty at the source: an empty value wipes nothing.
            return Decision(row, None, None, "no value at the source side yet")
        if allowed_to_hubspot:
            return Decision(row, "to_hubspot", lms, "the LMS value differs (to_hubspot field)")
        return _to_lms(row, hub, "the HubSpot value differs (to_lms field)", rejected)
    if lms_changed:
        if allowed_to_hubspot:
            return Decision(row, "to_hubspot", lms, "changed in the LMS")
        return Decision(
            row, None, None, "changed in the LMS; to_lms field: HubSpot keeps its value"
        )
    if allowed_to_lms:
        return _to_lms(row, hub, "changed in HubSpot", rejected)
    return Decision(
        row, None, None, "changed in HubSpot; to_hubspot field: the LMS keeps its value"
    )


def _read_before(read_at: datetime | None, written_at: datetime) -> bool:
    return read_at is None or read_at < written_at


def _by_rule(mapping: FieldMapping, lms: str | None, hub: str | None) -> Way:
    # A side with no value never wins over one that has a value: filling a gap is no conflict.
    if lms is None:
        return "to_lms"
    if hub is None:
        return "to_hubspot"
    return "to_hubspot" if mapping.winner == "lms" else "to_lms"


def _to_lms(row: FieldRow, value: str | None, reason: str, rejected: str | None) -> Decision:
    if rejected is not None and value == rejected:
        return Decision(row, None, None, "the LMS refused this value before; waiting for a new one")
    return Decision(row, "to_lms", value, reason)


def build_field_plan(
    rows: Iterable[FieldRow],
    state: Mapping[tuple[str, str], Recorded],
    *,
    resync: ResyncDirection | None = None,
) -> FieldPlan:
    """`state`: (learner_key, mapping key) -> what field_state recorded."""
    plan = FieldPlan()
    for row in rows:
        recorded = state.get((row.learner_key, row.mapping.key))
        if recorded is None:
            decision = decide(row, resync=resync)
        else:
            decision = decide(
                row,
                recorded.agreed,
                rejected=recorded.rejected,
                resync=resync,
                written_to=recorded.written_to,
                written_at=recorded.written_at,
            )
        if decision is None:
            plan.unchanged += 1
        else:
            plan.decisions.append(decision)
    return plan
