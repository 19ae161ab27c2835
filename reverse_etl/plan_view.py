"""A sync plan as people read it: per property, how many records change, from what to what.

The plan holds what will be sent; the "before" side is what HubSpot last confirmed
(sync_state). Records are named by the learner's email where there is one, else by id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from reverse_etl.field_plan import FieldPlan
from reverse_etl.plan import ConfirmedState, SyncPlan

EXAMPLES = 3


@dataclass(frozen=True)
class PropertyChange:
    sync_name: str
    action: str  # create | update
    record: str  # the learner's email, else the record key
    target: str  # HubSpot record id, or the id property's value for upserts
    property: str
    before: str | None
    after: str


@dataclass
class PropertySummary:
    records: int = 0
    examples: list[tuple[str | None, str]] = field(default_factory=list)


def property_changes(
    plan: SyncPlan,
    state: Mapping[str, ConfirmedState],
    labels: Mapping[str, str],
) -> Iterator[PropertyChange]:
    """Every (record, property) the plan sends, with HubSpot's last confirmed value."""
    for write in plan.writes:
        key = write.record_keys[0]
        previous = state.get(key)
        before = previous.properties if previous is not None else {}
        for prop, after in sorted(write.properties.items()):
            if prop == write.id_property:
                continue  # the key it is upserted by, not a change
            yield PropertyChange(
                plan.sync_name,
                write.action,
                labels.get(key, key),
                write.target,
                prop,
                before.get(prop),
                after,
            )


def by_property(changes: Iterator[PropertyChange]) -> dict[str, PropertySummary]:
    """property -> how many records change it, and the first few before -> after pairs."""
    summary: dict[str, PropertySummary] = {}
    for change in changes:
        entry = summary.setdefault(change.property, PropertySummary())
        entry.records += 1
        if len(entry.examples) < EXAMPLES:
            entry.examples.append((change.before, change.after))
    return summary


def skipped_reasons(plan: SyncPlan, labels: Mapping[str, str]) -> dict[str, list[str]]:
    """reason -> the records skipped for it (named by email where known)."""
    reasons: dict[str, list[str]] = {}
    for key, reason in plan.skipped:
        reasons.setdefault(reason, []).append(labels.get(key, key))
    return reasons


@dataclass
class MappingSummary:
    to_hubspot: int = 0
    to_lms: int = 0
    held: int = 0
    examples: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)


def field_summary(plan: FieldPlan, labels: Mapping[str, str]) -> dict[str, MappingSummary]:
    """mapping -> values going each way, values held back, and a few (record, way, LMS value,
    HubSpot value) examples, writes first."""
    summary: dict[str, MappingSummary] = {}
    ordered = sorted(plan.decisions, key=lambda d: (d.way is None, not d.agreed_changed))
    for d in ordered:
        entry = summary.setdefault(d.row.mapping.key, MappingSummary())
        if d.way == "to_hubspot":
            entry.to_hubspot += 1
        elif d.way == "to_lms":
            entry.to_lms += 1
        elif not d.agreed_changed:
            entry.held += 1
        if len(entry.examples) < EXAMPLES and (d.way is not None or not d.agreed_changed):
            entry.examples.append(
                (
                    labels.get(d.row.learner_key, d.row.learner_key),
                    d.way or f"held: {d.reason}",
                    d.row.lms_value,
                    d.row.hubspot_value,
                )
            )
    return summary


def deleted_note(tombstones: dict[str, int]) -> str:
    """'deleted learners: 2 cleared, 1 archived' (the on_delete policy applied this run)."""
    done = ", ".join(f"{n:,} {action}" for action, n in sorted(tombstones.items()) if n)
    return f"deleted learners: {done}"
