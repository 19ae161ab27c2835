"""The plan as data: what each mart row needs in HubSpot, computed before anything is sent.

Dry run prints it, apply executes it: one code path, two outputs. A row is `unchanged` when
the hash of its wire values equals the hash HubSpot last confirmed (sync_state), `invalid`
when a value would be rejected anyway, `skipped` when policy says not to write it (no match
and no contact creation, no consent), else a write: `create` or `update`. A row whose learner
was deleted (the sync's `deleted_column`) is a tombstone: its `on_delete` policy is applied
once (`clear`, `archive` or `leave`), then it is unchanged for good.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reverse_etl.config import Sync, WriteCap
from reverse_etl.values import InvalidValue, to_wire

BATCH_SIZE = 100
WriteKind = Literal["update", "upsert", "archive"]
TombstoneAction = Literal["cleared", "archived", "left"]


@dataclass(frozen=True)
class ConfirmedState:
    """What HubSpot last confirmed for one record key."""

    hubspot_id: str | None
    row_hash: str
    properties: Mapping[str, str | None]


@dataclass(frozen=True)
class Rejection:
    record_key: str
    category: str
    message: str
    row: Mapping[str, Any]

    @property
    def payload(self) -> dict[str, Any]:
        """The row as JSON-safe values (built only for rejected rows, which are few)."""
        return _json_safe(self.row)


@dataclass
class Write:
    """One batch input: possibly several mart rows merged because they target one record."""

    kind: WriteKind
    action: Literal["create", "update", "archive"]
    target: str  # record id for update, idProperty value for upsert
    id_property: str | None
    properties: dict[str, str]
    record_keys: list[str]
    hashes: dict[str, str]
    confirmed: dict[str, dict[str, str | None]]
    # (to_object_type, to_id, type_id, category) to create after the write, for records
    # HubSpot may not have associated yet (new, or a crash before the association call).
    associate: list[tuple[str, str, int, str]] = field(default_factory=list)
    # The value of the sync's cap column (the owner, for tasks); None when no cap.
    group: str | None = None

    @property
    def trace_id(self) -> str:
        return self.record_keys[0]


@dataclass
class SyncPlan:
    sync_name: str
    object_type: str
    writes: list[Write] = field(default_factory=list)
    unchanged: int = 0
    invalid: list[Rejection] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Skipped again for a remembered reason and only counted (a quiet scheduled plan).
    skipped_unlisted: int = 0
    # Rows whose hash changed but whose payload became empty (e.g. a backward lifecycle
    # move dropped): state advances without a call.
    noops: list[tuple[str, str | None, str, dict[str, str | None]]] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)
    # The per-value cap (tasks per owner): planned writes per value after the cap, the record
    # keys held back for a later run (not sent, not confirmed, not rejected), the limit.
    by_owner: dict[str, int] = field(default_factory=dict)
    deferred: list[str] = field(default_factory=list)
    cap: WriteCap | None = None
    # Record keys re-sent because HubSpot no longer holds what it confirmed (`--repair`).
    repaired: list[str] = field(default_factory=list)
    # Deleted learners' rows whose on_delete policy this run applies, by what it does.
    tombstones: dict[str, list[str]] = field(default_factory=dict)
    # Keys of the rows this plan found unchanged (their source hash is stamped for next run).
    unchanged_keys: list[str] = field(default_factory=list)

    @property
    def creates(self) -> list[Write]:
        return [w for w in self.writes if w.action == "create"]

    @property
    def updates(self) -> list[Write]:
        return [w for w in self.writes if w.action == "update"]

    @property
    def archives(self) -> list[Write]:
        return [w for w in self.writes if w.action == "archive"]

    @property
    def skipped_count(self) -> int:
        return len(self.skipped) + self.skipped_unlisted

    @property
    def planned(self) -> int:
        return sum(len(w.record_keys) for w in self.writes)

    def batches(self, kind: WriteKind) -> list[list[Write]]:
        writes = [w for w in self.writes if w.kind == kind]
        return [writes[i : i + BATCH_SIZE] for i in range(0, len(writes), BATCH_SIZE)]

    def summary(self) -> dict[str, Any]:
        return {
            "sync": self.sync_name,
            "object_type": self.object_type,
            "creates": sum(len(w.record_keys) for w in self.creates),
            "updates": sum(len(w.record_keys) for w in self.updates),
            "unchanged": self.unchanged + len(self.noops),
            "invalid": len(self.invalid),
            "skipped": self.skipped_count,
            "deferred": len(self.deferred),
            "by_owner": dict(self.by_owner),
            "repaired": len(self.repaired),
            "tombstones": {action: len(keys) for action, keys in self.tombstones.items()},
            "write_batches": {k: len(self.batches(k)) for k in ("update", "upsert", "archive")},
            "setup": list(self.setup),
            "invalid_rows": [
                {"record_key": r.record_key, "category": r.category, "message": r.message}
                for r in self.invalid[:20]
            ],
        }

    def cap_line(self) -> str | None:
        """One log line: "tasks: N to create for M owners (owner 1: 25, ...; K deferred ...)"."""
        if self.cap is None:
            return None
        label = self.cap.column.removeprefix("hubspot_").removesuffix("_id")
        verb = "to create" if all(w.action == "create" for w in self.writes) else "to write"
        counts = ", ".join(f"{label} {value}: {n}" for value, n in self.by_owner.items())
        groups = f"{len(self.by_owner)} {label}{'' if len(self.by_owner) == 1 else 's'}"
        line = f"{self.sync_name}: {len(self.writes)} {verb} for {groups}"
        detail = [counts] if counts else []
        if self.cap.max_per_run is not None:
            detail.append(
                f"{len(self.deferred)} deferred by the per-{label} cap of {self.cap.max_per_run}"
            )
        return f"{line} ({'; '.join(detail)})" if detail else line


# What json.dumps(payload, sort_keys=True, default=str) builds on every call, built once:
# the same bytes, without a new encoder per planned row.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=str)


def row_hash(payload: Mapping[str, Any]) -> str:
    """Stable across runs and processes: canonical JSON, sorted keys."""
    return hashlib.sha256(_CANONICAL.encode(payload).encode()).hexdigest()


def _json_safe(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, str | int | float | bool) or v is None else str(v))
        for k, v in row.items()
    }


def _rank(order: tuple[str, ...], value: str | None) -> int:
    return order.index(value) if value in order else -1


def _drop_backward_moves(
    sync: Sync, props: dict[str, str], known: Iterable[Mapping[str, str | None]]
) -> None:
    """Never send a stage behind (or equal to) what HubSpot holds, as far as we know it."""
    for spec in sync.fields.values():
        if spec.forward_only is None or props.get(spec.property) is None:
            continue
        held = max((_rank(spec.forward_only, k.get(spec.property)) for k in known), default=-1)
        wanted = _rank(spec.forward_only, props[spec.property])
        if wanted != -1 and wanted <= held:
            del props[spec.property]


def _format(sync: Sync, row: Mapping[str, Any]) -> tuple[dict[str, str | None], list[InvalidValue]]:
    props: dict[str, str | None] = {}
    errors: list[InvalidValue] = []
    for column, spec in sync.fields.items():
        value = row.get(column)
        if value is None:
            # A null forward-only value means "no move wanted", never "clear it": leaving it
            # out keeps the row's hash stable once HubSpot has reached the stage.
            if spec.forward_only is None:
                props[spec.property] = None  # what to_wire gives a missing value
            continue
        try:
            props[spec.property] = to_wire(spec, value)
        except InvalidValue as exc:
            errors.append(exc)
    return props, errors


Link = tuple[str, str, int, str]


class RowRejected(Exception):
    """A row HubSpot would refuse (or that can't be placed): it goes to `plan.invalid`."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.message)
        self.rejection = rejection


class RowSkipped(Exception):
    """A valid row that policy says not to write: it goes to `plan.skipped`."""

    def __init__(self, record_key: str, reason: str) -> None:
        super().__init__(reason)
        self.record_key = record_key
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """Where a row goes in HubSpot: a record id to update, or an id property to upsert on."""

    kind: WriteKind
    value: str
    id_property: str | None

    @property
    def merge_key(self) -> tuple[str, str]:
        # Emails match HubSpot's case-insensitive lookup; other ids are compared exactly.
        return (self.kind, self.value.lower() if self.id_property == "email" else self.value)


@dataclass(frozen=True)
class PreparedRow:
    """A row that passed validation, its values in wire form and its target resolved."""

    key: str
    props: dict[str, str | None]
    target: Target
    links: list[Link]

    @property
    def digest(self) -> str:
        return row_hash(
            {
                "target": [self.target.kind, self.target.value],
                "properties": self.props,
                "links": self.links,
            }
        )


@dataclass(frozen=True)
class Change:
    """A row whose hash differs from HubSpot's last confirmation, and what to send for it."""

    row: PreparedRow
    digest: str
    previous: ConfirmedState | None
    send: dict[str, str]


def build_plan(
    sync: Sync,
    rows: Iterable[Mapping[str, Any]],
    state: Mapping[str, ConfirmedState],
    *,
    full: bool = False,
    hubspot_current: Mapping[str, Mapping[str, str | None]] | None = None,
    repair: Mapping[str, ConfirmedState | None] | None = None,
    created: Collection[str] = frozenset(),
    live_targets: Collection[str] = frozenset(),
) -> SyncPlan:
    """Decide, row by row, what to send; merge rows that target the same HubSpot record.

    `repair` (from reverse_etl.repair) maps record keys HubSpot drifted on to what HubSpot
    holds now (None: deleted there); those rows are diffed against it instead of sync_state.
    `created` holds the record keys whose HubSpot record lmsbridge created (`archive` only
    archives those); `live_targets` the update targets of live rows not passed in `rows`. `sync.cap` then holds back writes over the per-group limit."""
    plan = SyncPlan(sync.name, sync.object_type, cap=sync.cap)
    merged: dict[tuple[str, str], Write] = {}
    seen: set[str] = set()
    ranks: dict[str, tuple[str, Any]] = {}
    repair = repair or {}
    current = {**(hubspot_current or {})}
    tombstones: list[tuple[str, ConfirmedState | None]] = []
    live_targets = set(live_targets)
    for row in rows:
        if sync.on_delete is not None and row.get(sync.deleted_column) is True:
            try:
                key = validate_key(sync, row, seen)
            except RowRejected as exc:
                plan.invalid.append(exc.rejection)
                continue
            tombstones.append((key, None if full else state.get(key)))
            continue
        try:
            prepared = prepare_row(sync, row, seen)
        except RowRejected as exc:
            plan.invalid.append(exc.rejection)
            continue
        except RowSkipped as exc:
            plan.skipped.append((exc.record_key, exc.reason))
            continue
        if prepared.target.kind == "update":
            live_targets.add(prepared.target.value)
        previous = None if full else state.get(prepared.key)
        drifted, baseline = (False, None) if full else _drift_baseline(prepared, repair)
        if drifted:
            # Diff against what HubSpot holds now (None: the record is gone, create it).
            previous = baseline
            if baseline is not None and baseline.hubspot_id is not None:
                current[baseline.hubspot_id] = baseline.properties
        change = diff_row(sync, prepared, previous, current)
        if drifted and change is not None and change.send:
            plan.repaired.append(prepared.key)
        if sync.cap is not None:
            ranks[prepared.key] = _cap_rank(sync.cap, row)
        place_change(plan, merged, change, prepared.key)
    placed: dict[tuple[str, str], Write] = {}
    for key, previous in tombstones:
        tracked = _tracked(sync, key, created)
        place_tombstone(plan, placed, sync, key, previous, tracked=tracked, shared=live_targets)
    if sync.cap is not None:
        apply_cap(plan, sync.cap, ranks)
    return plan


def _drift_baseline(
    row: PreparedRow, repair: Mapping[str, ConfirmedState | None]
) -> tuple[bool, ConfirmedState | None]:
    """(drifted, what HubSpot holds now) for one row under `--repair`."""
    if row.key not in repair:
        return False, None
    now = repair[row.key]
    if now is not None and row.target.kind == "update" and now.hubspot_id != row.target.value:
        return False, None  # the row now aims at another record: the normal diff decides
    return True, now


def _cap_rank(cap: WriteCap, row: Mapping[str, Any]) -> tuple[str, Any]:
    """(cap group, ordering value) of one row; rows without a group share "none"."""
    value = row.get(cap.column)
    group = "none" if value is None or str(value) == "" else str(value)
    return group, row.get(cap.newest_first_by) if cap.newest_first_by else None


def apply_cap(plan: SyncPlan, cap: WriteCap, ranks: Mapping[str, tuple[str, Any]]) -> None:
    """Keep at most `cap.max_per_run` writes per group (newest first when ordered); defer the
    rest: they stay out of sync_state, so the next run plans them again."""

    def newest_first(write: Write) -> tuple[bool, Any, str]:
        order = ranks[write.trace_id][1]
        return (order is not None, order, write.trace_id)

    # Tombstones (archives, clears) are not new work for anyone: the cap does not hold them.
    capped = [w for w in plan.writes if w.trace_id in ranks]

    ordered = capped
    if cap.newest_first_by:
        ordered = sorted(capped, key=newest_first, reverse=True)
    counts: Counter[str] = Counter()
    kept: set[int] = set()
    for write in ordered:
        write.group = ranks[write.trace_id][0]
        if cap.max_per_run is not None and counts[write.group] >= cap.max_per_run:
            plan.deferred.extend(write.record_keys)
            continue
        counts[write.group] += 1
        kept.add(id(write))
    plan.writes = [w for w in plan.writes if id(w) in kept or w.trace_id not in ranks]
    plan.by_owner = dict(sorted(counts.items()))
    held = set(plan.deferred)
    plan.repaired = [k for k in plan.repaired if k not in held]


def tombstone_hash(sync: Sync) -> str:
    """The state a record reaches once its deletion policy ran; equal on every later run."""
    return row_hash({"tombstone": sync.on_delete})


def _tracked(sync: Sync, key: str, created: Collection[str]) -> bool:
    """Did lmsbridge create this record? Syncs that upsert by their own id property create
    every record they write; an update sync only the contacts it created by email."""
    return sync.mode != "update" or key in created


def _ours(sync: Sync) -> set[str]:
    """Properties we may clear: our own, never HubSpot's (a lifecycle stage stays)."""
    return {
        spec.property
        for spec in sync.fields.values()
        if not spec.hubspot_defined and spec.property != sync.id_property
    }


def place_tombstone(
    plan: SyncPlan,
    placed: dict[tuple[str, str], Write],
    sync: Sync,
    key: str,
    previous: ConfirmedState | None,
    *,
    tracked: bool,
    shared: Collection[str] = frozenset(),
) -> None:
    """Apply `sync.on_delete` to one deleted learner's record, exactly once.

    Nothing ever sent (or `leave`): only the state moves, so nothing is created later either.
    `archive` on a record lmsbridge did not create clears it instead. A record another live
    learner still writes (`shared`) is left: clearing it would wipe that learner's values."""
    digest = tombstone_hash(sync)
    if previous is not None and previous.row_hash == digest:
        plan.unchanged += 1
        plan.unchanged_keys.append(key)
        return
    hubspot_id = previous.hubspot_id if previous is not None else None
    known = dict(previous.properties) if previous is not None else {}
    policy = sync.on_delete
    if policy == "archive" and not tracked:
        policy = "clear"
    ours = _ours(sync)
    cleared = {p: "" for p, v in known.items() if p in ours and v not in (None, "")}
    if hubspot_id in shared:
        policy = "leave"
    if hubspot_id is None or policy == "leave" or (policy == "clear" and not cleared):
        plan.tombstones.setdefault("left", []).append(key)
        plan.noops.append((key, hubspot_id, digest, known))
        return
    kind: WriteKind = "archive" if policy == "archive" else "update"
    send = {} if kind == "archive" else cleared
    after = (
        known if kind == "archive" else {p: (None if p in cleared else v) for p, v in known.items()}
    )
    plan.tombstones.setdefault("archived" if kind == "archive" else "cleared", []).append(key)
    existing = placed.get((kind, hubspot_id))
    if existing is not None:
        # Two deleted learners on one record: one input (HubSpot refuses duplicate ids).
        existing.properties.update(send)
        existing.record_keys.append(key)
        existing.hashes[key] = digest
        existing.confirmed[key] = after
        return
    action: Literal["update", "archive"] = "archive" if kind == "archive" else "update"
    write = Write(kind, action, hubspot_id, None, dict(send), [key], {key: digest}, {key: after})
    placed[(kind, hubspot_id)] = write
    plan.writes.append(write)


def prepare_row(sync: Sync, row: Mapping[str, Any], seen: set[str]) -> PreparedRow:
    """Validate one mart row and format its values, in the order that picks its one verdict."""
    key = validate_key(sync, row, seen)
    props = format_row(sync, key, row)
    target = resolve_target(sync, key, row)
    links = collect_links(sync, key, row)
    return PreparedRow(key, props, target, links)


def validate_key(sync: Sync, row: Mapping[str, Any], seen: set[str]) -> str:
    """The row's record key, refused when missing or already seen earlier in this plan."""
    raw_key = row.get(sync.record_key)
    if raw_key is None or str(raw_key) == "":
        raise RowRejected(Rejection("", "missing_key", f"{sync.record_key} is null", row))
    key = str(raw_key)
    if key in seen:
        message = f"{sync.record_key} {key!r} appears twice"
        raise RowRejected(Rejection(key, "duplicate_key", message, row))
    seen.add(key)
    return key


def format_row(sync: Sync, key: str, row: Mapping[str, Any]) -> dict[str, str | None]:
    """The row's values as HubSpot wire strings, refused if any value would be rejected."""
    props, errors = _format(sync, row)
    if errors:
        message = "; ".join(str(e) for e in errors)
        raise RowRejected(Rejection(key, errors[0].code, message, row))
    return props


def resolve_target(sync: Sync, key: str, row: Mapping[str, Any]) -> Target:
    """Which HubSpot record the row writes to; skipped or refused when there is none."""
    raw_id = row.get(sync.id_column)
    has_id = raw_id is not None and str(raw_id) != ""
    if sync.mode != "update":
        if not has_id:
            raise RowRejected(Rejection(key, "missing_id", f"{sync.id_column} is null", row))
        return Target("upsert", str(raw_id), sync.id_property)
    if has_id:
        return Target("update", str(raw_id), None)
    return Target("upsert", _creation_email(sync, key, row), "email")


def _creation_email(sync: Sync, key: str, row: Mapping[str, Any]) -> str:
    """The email to create an unmatched contact by, if policy allows creating it."""
    if not sync.create_missing_contacts:
        raise RowSkipped(key, "no matching HubSpot record (creation is off)")
    if sync.do_not_create_column and row.get(sync.do_not_create_column) is True:
        raise RowSkipped(key, "its contact was archived in HubSpot (not re-created)")
    if sync.consent_column and row.get(sync.consent_column) is not True:
        raise RowSkipped(key, f"{sync.consent_column} is not true")
    email = str(row.get(sync.create_id_column) or "").strip().lower()
    if not email:
        raise RowSkipped(key, f"{sync.create_id_column} is empty")
    return email


def collect_links(sync: Sync, key: str, row: Mapping[str, Any]) -> list[Link]:
    """The associations the row asks for, refused if any of their ids is missing."""
    links: list[Link] = []
    for assoc in sync.associations:
        to_id = row.get(assoc.column)
        if to_id is None or str(to_id) == "":
            raise RowRejected(Rejection(key, "missing_association", f"{assoc.column} is null", row))
        links.append((assoc.to_object_type, str(to_id), assoc.type_id, assoc.category))
    return links


def diff_row(
    sync: Sync,
    row: PreparedRow,
    previous: ConfirmedState | None,
    hubspot_current: Mapping[str, Mapping[str, str | None]],
) -> Change | None:
    """What to send against HubSpot's last confirmation; None when nothing changed."""
    digest = row.digest
    if previous is not None and (previous.row_hash == digest or sync.mode == "create_once"):
        return None
    if previous is None:
        send = {k: v for k, v in row.props.items() if v is not None}
    else:
        # Only what changed since HubSpot's last confirmation; a value that disappeared
        # is cleared with "" (HubSpot's documented way), not left stale.
        send = {
            k: ("" if v is None else v)
            for k, v in row.props.items()
            if v != previous.properties.get(k)
        }
    target = row.target
    known = [previous.properties] if previous else []
    if target.kind == "update" and target.value in hubspot_current:
        known.append(hubspot_current[target.value])
    _drop_backward_moves(sync, send, known)
    if target.id_property and target.id_property != "email":
        send[target.id_property] = target.value
    return Change(row, digest, previous, send)


def place_change(
    plan: SyncPlan, merged: dict[tuple[str, str], Write], change: Change | None, change_key: str
) -> None:
    """Route one diffed row: unchanged, a no-op that only advances state, or into a write."""
    if change is None:
        plan.unchanged += 1
        plan.unchanged_keys.append(change_key)
    elif not change.send:
        hubspot_id = change.previous.hubspot_id if change.previous else None
        plan.noops.append((change.row.key, hubspot_id, change.digest, change.row.props))
    else:
        merge_write(plan, merged, change)


def merge_write(plan: SyncPlan, merged: dict[tuple[str, str], Write], change: Change) -> None:
    """Add a change as a new write, or fold it into the write already aimed at its record."""
    row, previous = change.row, change.previous
    # Records already associated (confirmed before) keep their association.
    associate = row.links if previous is None or previous.hubspot_id is None else []
    existing = merged.get(row.target.merge_key)
    if existing is None:
        write = Write(
            kind=row.target.kind,
            action="create" if previous is None and row.target.kind == "upsert" else "update",
            target=row.target.value,
            id_property=row.target.id_property,
            properties=dict(change.send),
            record_keys=[row.key],
            hashes={row.key: change.digest},
            confirmed={row.key: row.props},
            associate=list(associate),
        )
        merged[row.target.merge_key] = write
        plan.writes.append(write)
        return
    # Two rows, one HubSpot record: one input (HubSpot rejects duplicate ids in a batch),
    # later rows filling in what earlier ones left out.
    for prop, value in change.send.items():
        if value != "" or prop not in existing.properties:
            existing.properties[prop] = value
    existing.record_keys.append(row.key)
    existing.hashes[row.key] = change.digest
    existing.confirmed[row.key] = row.props
    existing.associate.extend(a for a in associate if a not in existing.associate)
