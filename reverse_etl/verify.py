"""`lmsbridge verify`: is what we believe HubSpot holds what it holds?

Reads back (batch/read, 100 a call, through the client's pacing) every record in sync_state
and compares it with what HubSpot confirmed. Each difference is one `Drift`: a property
someone edited, a record that is gone (deleted), archived, or merged into another contact.
Nothing is written to HubSpot; `sync --repair` re-sends what this finds. Each verify is
recorded in `reverse_etl.verify_runs` and its drift in `reverse_etl.verify_results`.

Mapped fields (syncs.yml `field_mappings`) are compared with the value both sides last agreed
on (reverse_etl.field_state). HubSpot owns `to_lms` and `both` fields: an edit there is a
`two_way_edit`, listed but not drift (it flows to LearnWorlds on the next run). For every
edited property, one more read (50 records a call, only for drifted records) of its history
says who edited it (reverse_etl.edited_by).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb

from lmsbridge_core.errors import ConfigurationError
from lmsbridge_core.settings import Settings
from lmsbridge_core.warehouse import table_exists
from reverse_etl import edited_by as eb
from reverse_etl import state as st
from reverse_etl.client import HubSpotClient
from reverse_etl.config import Sync, load_config
from reverse_etl.field_plan import normalize
from reverse_etl.field_sync import TO_HUBSPOT, TO_LMS, reserved_properties
from reverse_etl.mappings import FieldMappings
from reverse_etl.plan import ConfirmedState
from reverse_etl.repair import batch_read, id_value, same_value

Progress = Callable[[str, int, int | None], None]
EDITED, MISSING, ARCHIVED, MERGED = "edited", "missing", "archived", "merged"
# A person's (or another app's) edit of a field HubSpot owns: expected, so not drift.
TWO_WAY_EDIT = "two_way_edit"
KINDS = (EDITED, MISSING, ARCHIVED, MERGED, TWO_WAY_EDIT)

DDL = """
create schema if not exists reverse_etl;
create table if not exists reverse_etl.verify_runs (
    verify_id text primary key,
    verified_at timestamptz not null,
    records_checked integer not null,
    records_drifted integer not null,
    calls integer not null
);
create table if not exists reverse_etl.verify_results (
    verify_id text not null,
    sync_name text not null,
    record_key text not null,
    hubspot_id text,
    kind text not null,
    property text,
    ours text,
    theirs text
);
-- Added later: tables made before them gain the columns in place.
alter table reverse_etl.verify_runs add column if not exists two_way_edits integer;
alter table reverse_etl.verify_results add column if not exists edited_by text;
alter table reverse_etl.verify_results add column if not exists edited_source text;
alter table reverse_etl.verify_results add column if not exists edited_at timestamptz;
"""


@dataclass(frozen=True)
class Drift:
    sync_name: str
    record_key: str
    hubspot_id: str | None
    kind: str  # edited | missing | archived | merged | two_way_edit
    property: str | None = None
    ours: str | None = None  # what HubSpot confirmed to us (mapped fields: last agreed)
    theirs: str | None = None  # what it holds now (merged: the surviving record's id)
    # Edits only: person | integration | lmsbridge | unknown, from the property's history.
    edited_by: str | None = None
    edited_source: str | None = None  # sourceType (sourceLabel or sourceId)
    edited_at: datetime | None = None  # when HubSpot's current value was written


def is_drift(d: Drift) -> bool:
    """Drift for the exit code; a two-way edit is people using a field they own."""
    return d.kind != TWO_WAY_EDIT


@dataclass
class VerifyReport:
    verify_id: str
    checked: dict[str, int] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    calls: int = 0

    @property
    def records_drifted(self) -> int:
        return len({(d.sync_name, d.record_key) for d in self.drift if is_drift(d)})

    @property
    def two_way_edits(self) -> int:
        return sum(1 for d in self.drift if not is_drift(d))

    @property
    def has_drift(self) -> bool:
        return any(is_drift(d) for d in self.drift)


def _split(value: Any) -> list[str]:
    return [part for part in str(value or "").split(";") if part]


def _gone(
    client: HubSpotClient, sync: Sync, missing: Mapping[str, str]
) -> dict[str, tuple[str, str | None]]:
    """record key -> (archived | missing, None) for records HubSpot no longer lists."""
    if not missing:
        return {}
    archived = {
        str(r.get("id"))
        for r in batch_read(
            client, sync.object_type, sorted(set(missing.values())), [], archived=True
        )
    }
    return {key: (ARCHIVED if hid in archived else MISSING, None) for key, hid in missing.items()}


def check_update_sync(
    client: HubSpotClient, sync: Sync, state: Mapping[str, ConfirmedState]
) -> list[Drift]:
    """Records written by id: each synced property compared by meaning, and the records gone."""
    by_id: dict[str, list[str]] = {}
    for key, confirmed in state.items():
        if confirmed.hubspot_id is not None:
            by_id.setdefault(confirmed.hubspot_id, []).append(key)
    properties = [spec.property for spec in sync.fields.values()]
    extra = ["hs_merged_object_ids"] if sync.object_type == "contacts" else []
    current: dict[str, dict[str, Any]] = {}
    merged_into: dict[str, str] = {}
    for record in batch_read(
        client, sync.object_type, sorted(by_id), properties + extra, label="verify"
    ):
        record_id = str(record.get("id"))
        props = record.get("properties") or {}
        current[record_id] = props
        # A merged-away id may be answered with its survivor: same record, another id.
        for old in _split(props.get("hs_merged_object_ids")):
            if old in by_id and old != record_id:
                merged_into[old] = record_id
    drift: list[Drift] = []
    missing: dict[str, str] = {}
    for hubspot_id, keys in sorted(by_id.items()):
        for key in keys:
            if hubspot_id in merged_into:
                drift.append(
                    Drift(sync.name, key, hubspot_id, MERGED, theirs=merged_into[hubspot_id])
                )
            elif hubspot_id not in current:
                missing[key] = hubspot_id
            else:
                drift += _edited(sync, key, hubspot_id, state[key], current[hubspot_id])
    for key, (kind, _) in _gone(client, sync, missing).items():
        drift.append(Drift(sync.name, key, missing[key], kind))
    return drift


def _edited(
    sync: Sync, key: str, hubspot_id: str, confirmed: ConfirmedState, props: Mapping[str, Any]
) -> list[Drift]:
    out = []
    for spec in sync.fields.values():
        if spec.property not in confirmed.properties:
            continue  # never sent: nothing of ours to check
        ours, theirs = confirmed.properties[spec.property], props.get(spec.property)
        theirs = None if theirs is None else str(theirs)
        if spec.forward_only is not None:
            rank = {v: i for i, v in enumerate(spec.forward_only)}
            changed = rank.get(theirs or "", -1) < rank.get(ours or "", -1)  # only going back
        else:
            changed = not same_value(spec, ours, theirs)
        if changed:
            out.append(Drift(sync.name, key, hubspot_id, EDITED, spec.property, ours, theirs))
    return out


def check_id_property_sync(
    client: HubSpotClient, sync: Sync, state: Mapping[str, ConfirmedState]
) -> list[Drift]:
    """Records written by a unique id property (notes, tasks): do they still exist?"""
    assert sync.id_property is not None
    values = {key: id_value(sync, key, c) for key, c in state.items()}
    found = {
        str((r.get("properties") or {}).get(sync.id_property))
        for r in batch_read(
            client, sync.object_type, sorted(set(values.values())), [sync.id_property],
            id_property=sync.id_property,
            label="verify",
        )
    }  # fmt: skip
    missing = {
        key: state[key].hubspot_id or "" for key, value in values.items() if value not in found
    }
    with_id = {k: v for k, v in missing.items() if v}
    kinds = _gone(client, sync, with_id)
    return [
        Drift(sync.name, key, hubspot_id or None, kinds.get(key, (MISSING, None))[0])
        for key, hubspot_id in sorted(missing.items())
    ]


def check_field_mappings(
    client: HubSpotClient,
    con: duckdb.DuckDBPyConnection,
    mappings: FieldMappings,
    reserved: set[str],
    wanted: set[str],
) -> tuple[list[Drift], dict[str, int], set[tuple[str, str]]]:
    """Mapped properties of the contacts the two-way sync manages, against the value both
    sides last agreed on. Returns the drift, contacts checked per sync, and the (contact,
    property) pairs whose agreed value we wrote to HubSpot ourselves (their history shows our
    signature). Properties a one-way sync writes are left to that sync's check."""
    by_key = {m.key: m for m in mappings.active if m.hubspot not in reserved}
    if not by_key or not table_exists(con, "reverse_etl", "field_state"):
        return [], {}, set()
    rows = [
        r
        for r in con.execute(
            "select learner_key, mapping_key, hubspot_contact_id, agreed_value, written_to "
            "from reverse_etl.field_state where hubspot_contact_id is not null "
            "order by learner_key, mapping_key"
        ).fetchall()
        if r[1] in by_key
        and (TO_HUBSPOT if by_key[r[1]].direction == "to_hubspot" else TO_LMS) in wanted
    ]
    checked: dict[str, set[str]] = {}
    for _, key, contact, _, _ in rows:
        name = TO_HUBSPOT if by_key[key].direction == "to_hubspot" else TO_LMS
        checked.setdefault(name, set()).add(str(contact))
    if not rows:
        return [], {}, set()
    contacts = sorted({str(r[2]) for r in rows})
    properties = sorted({by_key[r[1]].hubspot for r in rows})
    current = {
        str(r.get("id")): r.get("properties") or {}
        for r in batch_read(client, "contacts", contacts, properties, label="verify")
    }
    drift: list[Drift] = []
    ours: set[tuple[str, str]] = set()
    for learner_key, key, contact, agreed, written_to in rows:
        mapping, contact = by_key[key], str(contact)
        if contact not in current:
            continue  # gone: the contacts sync's check reports it
        theirs = current[contact].get(mapping.hubspot)
        if normalize(mapping, None if theirs is None else str(theirs)) == agreed:
            continue
        one_way = mapping.direction == "to_hubspot"
        drift.append(
            Drift(
                TO_HUBSPOT if one_way else TO_LMS,
                str(learner_key),
                contact,
                EDITED if one_way else TWO_WAY_EDIT,
                mapping.hubspot,
                agreed,
                None if theirs is None else str(theirs),
            )
        )
        if written_to == "hubspot":
            ours.add((contact, mapping.hubspot))
    return drift, {k: len(v) for k, v in checked.items()}, ours


def attribute(
    client: HubSpotClient,
    object_type: str,
    drift: list[Drift],
    written_by_us: set[tuple[str, str]],
) -> list[Drift]:
    """Fill edited_by/edited_source/edited_at on the edits of one object type from their
    property histories: one batch read per 50 drifted records, none when nothing was edited.

    `written_by_us`: (record id, property) pairs of mapped fields whose agreed value lmsbridge
    wrote (a one-way sync's confirmed value always is; an agreed one may have been seen on both
    sides instead); the history's version holding that value shows our signature.
    """
    edits = [d for d in drift if d.kind in (EDITED, TWO_WAY_EDIT) and d.hubspot_id]
    if not edits:
        return drift
    ids = sorted({str(d.hubspot_id) for d in edits})
    props = sorted({str(d.property) for d in edits})
    records = {
        str(r.get("id")): r
        for r in batch_read(client, object_type, ids, [], history=props, label="verify")
    }
    ours: set[eb.Signature] = set()
    for d in edits:
        record = records.get(str(d.hubspot_id))
        one_way = d.kind == EDITED and d.sync_name not in (TO_HUBSPOT, TO_LMS)
        if record is not None and (one_way or (d.hubspot_id, d.property) in written_by_us):
            # The newest version is the edit; ours is an older one.
            ours |= eb.our_signatures(eb.versions(record, str(d.property))[1:], d.ours)
    edited = set(edits)
    out = []
    for d in drift:
        if d not in edited:
            out.append(d)
            continue
        record = records.get(str(d.hubspot_id))
        history = eb.versions(record, str(d.property)) if record is not None else []
        editor = eb.classify(history, ours)
        out.append(
            replace(
                d,
                edited_by=editor.edited_by,
                edited_source=editor.edited_source,
                edited_at=editor.edited_at,
            )
        )
    return out


_RESULT_COLUMNS = (
    "verify_id, sync_name, record_key, hubspot_id, kind, property, ours, theirs, "
    "edited_by, edited_source, edited_at"
)


def _record(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> None:
    con.execute(DDL)
    con.execute(
        "insert into reverse_etl.verify_runs (verify_id, verified_at, records_checked, "
        "records_drifted, calls, two_way_edits) values (?, ?, ?, ?, ?, ?)",
        [
            report.verify_id,
            st.now(),
            sum(report.checked.values()),
            report.records_drifted,
            report.calls,
            report.two_way_edits,
        ],
    )
    if report.drift:
        con.executemany(
            f"insert into reverse_etl.verify_results ({_RESULT_COLUMNS}) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    report.verify_id,
                    d.sync_name,
                    d.record_key,
                    d.hubspot_id,
                    d.kind,
                    d.property,
                    d.ours,
                    d.theirs,
                    d.edited_by,
                    d.edited_source,
                    d.edited_at,
                ]
                for d in report.drift
            ],
        )


def verify(
    settings: Settings, *, only: list[str] | None = None, progress: Progress | None = None
) -> VerifyReport:
    """Read back every record we manage and report what differs; writes no HubSpot record."""
    token = settings.hubspot_access_token
    if token is None or not token.get_secret_value():
        raise ConfigurationError("verify reads HubSpot: LMSBRIDGE_HUBSPOT_ACCESS_TOKEN is not set")
    path = settings.warehouse_path
    if not path.exists():
        raise ConfigurationError(
            f"LMSBRIDGE_WAREHOUSE_PATH {path} does not exist (nothing synced to verify yet)"
        )
    config = load_config(settings.sync_config_path)
    syncs = [s for s in config.syncs if s.enabled and (only is None or s.name in only)]
    if only:
        unknown = sorted(set(only) - {s.name for s in config.syncs} - {TO_HUBSPOT, TO_LMS})
        if unknown:
            raise ConfigurationError(f"unknown sync name(s) {unknown}")
    mappings = config.field_mappings if config.field_mappings else FieldMappings()
    two_way = {TO_HUBSPOT, TO_LMS} & (set(only) if only else {TO_HUBSPOT, TO_LMS})
    if not mappings.active:
        two_way = set()
    steps = len(syncs) + (1 if two_way else 0)
    report = VerifyReport(verify_id=uuid.uuid4().hex)
    with (
        HubSpotClient(
            str(settings.hubspot_base_url),
            token.get_secret_value(),
            budget_s=settings.http_retry_budget_s,
        ) as client,
        st.connect(str(path)) as con,
    ):
        calls0 = client.counters.calls
        by_type: dict[str, list[Drift]] = {}
        for index, sync in enumerate(syncs, start=1):
            state = st.load_state(con, sync.name)
            report.checked[sync.name] = len(state)
            if state:
                check = check_update_sync if sync.mode == "update" else check_id_property_sync
                by_type.setdefault(sync.object_type, []).extend(check(client, sync, state))
            if progress is not None:
                progress("verify", index, steps)
        ours: set[tuple[str, str]] = set()
        if two_way:
            reserved = set(reserved_properties([s for s in config.syncs if s.enabled]))
            found, checked, ours = check_field_mappings(client, con, mappings, reserved, two_way)
            report.checked |= checked
            by_type.setdefault("contacts", []).extend(found)
            if progress is not None:
                progress("verify", steps, steps)
        for object_type, drift in by_type.items():
            report.drift += attribute(client, object_type, drift, ours)
        report.calls = client.counters.calls - calls0
        _record(con, report)
    return report
