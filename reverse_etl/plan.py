"""The plan as data: what each mart row needs in HubSpot, computed before anything is sent.

Dry run prints it, apply executes it: one code path, two outputs. A row is `unchanged` when
the hash of its wire values equals the hash HubSpot last confirmed (sync_state), `invalid`
when a value would be rejected anyway, `skipped` when policy says not to write it (no match
and no contact creation, no consent), else a write: `create` or `update`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reverse_etl.config import Sync
from reverse_etl.values import InvalidValue, to_wire

BATCH_SIZE = 100
WriteKind = Literal["update", "upsert"]


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
    action: Literal["create", "update"]
    target: str  # record id for update, idProperty value for upsert
    id_property: str | None
    properties: dict[str, str]
    record_keys: list[str]
    hashes: dict[str, str]
    confirmed: dict[str, dict[str, str | None]]
    # (to_object_type, to_id, type_id, category) to create after the write, for records
    # HubSpot may not have associated yet (new, or a crash before the association call).
    associate: list[tuple[str, str, int, str]] = field(default_factory=list)

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
    # Rows whose hash changed but whose payload became empty (e.g. a backward lifecycle
    # move dropped): state advances without a call.
    noops: list[tuple[str, str | None, str, dict[str, str | None]]] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)

    @property
    def creates(self) -> list[Write]:
        return [w for w in self.writes if w.action == "create"]

    @property
    def updates(self) -> list[Write]:
        return [w for w in self.writes if w.action == "update"]

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
            "skipped": len(self.skipped),
            "write_batches": {k: len(self.batches(k)) for k in ("update", "upsert")},
            "setup": list(self.setup),
            "invalid_rows": [
                {"record_key": r.record_key, "category": r.category, "message": r.message}
                for r in self.invalid[:20]
            ],
        }


def row_hash(payload: Mapping[str, Any]) -> str:
    """Stable across runs and processes: canonical JSON, sorted keys."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _json_safe(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: (v if isinstance(v, str | int | float | bool) or v is None else str(v))
        for k, v in row.items()
    }


def _rank(order: tuple[str, ...], value: str | None) -> int:
    return order.index(value) if value in order else -1


def _drop_backward_moves(
    sync: Sync, props: dict[str, str | None], known: Iterable[Mapping[str, str | None]]
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
        # A null forward-only value means "no move wanted", never "clear it": leaving it out
        # keeps the row's hash stable once HubSpot has reached the stage.
        if spec.forward_only is not None and row.get(column) is None:
            continue
        try:
            props[spec.property] = to_wire(spec, row.get(column))
        except InvalidValue as exc:
            errors.append(exc)
    return props, errors


def build_plan(
    sync: Sync,
    rows: Iterable[Mapping[str, Any]],
    state: Mapping[str, ConfirmedState],
    *,
    full: bool = False,
    hubspot_current: Mapping[str, Mapping[str, str | None]] | None = None,
) -> SyncPlan:
    """Decide, row by row, what to send; merge rows that target the same HubSpot record."""
    plan = SyncPlan(sync.name, sync.object_type)
    hubspot_current = hubspot_current or {}
    merged: dict[tuple[str, str], Write] = {}
    seen: set[str] = set()
    for row in rows:
        raw_key = row.get(sync.record_key)
        payload = row
        if raw_key is None or str(raw_key) == "":
            plan.invalid.append(Rejection("", "missing_key", f"{sync.record_key} is null", payload))
            continue
        key = str(raw_key)
        if key in seen:
            plan.invalid.append(
                Rejection(key, "duplicate_key", f"{sync.record_key} {key!r} appears twice", payload)
            )
            continue
        seen.add(key)
        props, errors = _format(sync, row)
        if errors:
            message = "; ".join(str(e) for e in errors)
            plan.invalid.append(Rejection(key, errors[0].code, message, payload))
            continue

        kind: WriteKind
        id_property: str | None
        raw_id = row.get(sync.id_column)
        if sync.mode == "update" and raw_id is not None and str(raw_id) != "":
            kind, target, id_property = "update", str(raw_id), None
        elif sync.mode == "update":
            if not sync.create_missing_contacts:
                plan.skipped.append((key, "no matching HubSpot record (creation is off)"))
                continue
            if sync.consent_column and row.get(sync.consent_column) is not True:
                plan.skipped.append((key, f"{sync.consent_column} is not true"))
                continue
            email = str(row.get(sync.create_id_column) or "").strip().lower()
            if not email:
                plan.skipped.append((key, f"{sync.create_id_column} is empty"))
                continue
            kind, target, id_property = "upsert", email, "email"
        else:
            if raw_id is None or str(raw_id) == "":
                plan.invalid.append(
                    Rejection(key, "missing_id", f"{sync.id_column} is null", payload)
                )
                continue
            kind, target, id_property = "upsert", str(raw_id), sync.id_property

        links: list[tuple[str, str, int, str]] = []
        missing_link = None
        for assoc in sync.associations:
            to_id = row.get(assoc.column)
            if to_id is None or str(to_id) == "":
                missing_link = assoc.column
                break
            links.append((assoc.to_object_type, str(to_id), assoc.type_id, assoc.category))
        if missing_link is not None:
            plan.invalid.append(
                Rejection(key, "missing_association", f"{missing_link} is null", payload)
            )
            continue

        digest = row_hash({"target": [kind, target], "properties": props, "links": links})
        previous = None if full else state.get(key)
        if previous is not None and (previous.row_hash == digest or sync.mode == "create_once"):
            plan.unchanged += 1
            continue

        if previous is None:
            send = {k: v for k, v in props.items() if v is not None}
        else:
            # Only what changed since HubSpot's last confirmation; a value that disappeared
            # is cleared with "" (HubSpot's documented way), not left stale.
            send = {
                k: ("" if v is None else v)
                for k, v in props.items()
                if v != previous.properties.get(k)
            }
        known = [previous.properties] if previous else []
        if kind == "update" and target in hubspot_current:
            known.append(hubspot_current[target])
        _drop_backward_moves(sync, send, known)  # type: ignore[arg-type]
        if id_property and id_property != "email":
            send[id_property] = target
        if not send:
            plan.noops.append((key, previous.hubspot_id if previous else None, digest, props))
            continue

        # Records already associated (confirmed before) keep their association.
        associate = links if (previous is None or previous.hubspot_id is None or full) else []
        merge_key = (kind, target.lower() if id_property == "email" else target)
        existing = merged.get(merge_key)
        if existing is None:
            write = Write(
                kind=kind,
                action="create" if previous is None and kind == "upsert" else "update",
                target=target,
                id_property=id_property,
                properties=dict(send),  # type: ignore[arg-type]
                record_keys=[key],
                hashes={key: digest},
                confirmed={key: props},
                associate=list(associate),
            )
            merged[merge_key] = write
            plan.writes.append(write)
        else:
            # Two rows, one HubSpot record: one input (HubSpot rejects duplicate ids in a
            # batch), later rows filling in what earlier ones left out.
            for prop, value in send.items():
                if value != "" or prop not in existing.properties:
                    existing.properties[prop] = value  # type: ignore[assignment]
            existing.record_keys.append(key)
            existing.hashes[key] = digest
            existing.confirmed[key] = props
            existing.associate.extend(a for a in associate if a not in existing.associate)
    return plan
