"""`lmsbridge verify`: is what we believe HubSpot holds what it holds?

Reads back (batch/read, 100 a call, through the client's pacing) every record in sync_state
and compares it with what HubSpot confirmed. Each difference is one `Drift`: a property
someone edited, a record that is gone (deleted), archived, or merged into another contact.
Nothing is written to HubSpot; `sync --repair` re-sends what this finds. Each verify is
recorded in `reverse_etl.verify_runs` and its drift in `reverse_etl.verify_results`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from lmsbridge_core.errors import ConfigurationError
from lmsbridge_core.settings import Settings
from reverse_etl import state as st
from reverse_etl.client import HubSpotClient
from reverse_etl.config import Sync, load_config
from reverse_etl.plan import ConfirmedState
from reverse_etl.repair import batch_read, id_value, same_value

Progress = Callable[[str, int, int | None], None]
EDITED, MISSING, ARCHIVED, MERGED = "edited", "missing", "archived", "merged"

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
"""


@dataclass(frozen=True)
class Drift:
    sync_name: str
    record_key: str
    hubspot_id: str | None
    kind: str  # edited | missing | archived | merged
    property: str | None = None
    ours: str | None = None  # what HubSpot confirmed to us
    theirs: str | None = None  # what it holds now (merged: the surviving record's id)


@dataclass
class VerifyReport:
    verify_id: str
    checked: dict[str, int] = field(default_factory=dict)
    drift: list[Drift] = field(default_factory=list)
    calls: int = 0

    @property
    def records_drifted(self) -> int:
        return len({(d.sync_name, d.record_key) for d in self.drift})


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


def _record(con: duckdb.DuckDBPyConnection, report: VerifyReport) -> None:
    con.execute(DDL)
    con.execute(
        "insert into reverse_etl.verify_runs values (?, ?, ?, ?, ?)",
        [
            report.verify_id,
            st.now(),
            sum(report.checked.values()),
            report.records_drifted,
            report.calls,
        ],
    )
    if report.drift:
        con.executemany(
            "insert into reverse_etl.verify_results values (?, ?, ?, ?, ?, ?, ?, ?)",
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
        unknown = sorted(set(only) - {s.name for s in config.syncs})
        if unknown:
            raise ConfigurationError(f"unknown sync name(s) {unknown}")
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
        for index, sync in enumerate(syncs, start=1):
            state = st.load_state(con, sync.name)
            report.checked[sync.name] = len(state)
            if state:
                check = check_update_sync if sync.mode == "update" else check_id_property_sync
                report.drift += check(client, sync, state)
            if progress is not None:
                progress("verify", index, len(syncs))
        report.calls = client.counters.calls - calls0
        _record(con, report)
    return report
