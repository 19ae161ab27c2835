"""`sync --repair`: find the records HubSpot no longer holds the way it last confirmed them.

A normal run compares the mart with sync_state only, so a value someone cleared by hand in
HubSpot, or a note or task someone deleted there, stays gone while the run reports
"unchanged". Repair reads HubSpot back (batch/read, 100 records a call, through the client's
rate limiting) and returns, per drifted record key, what HubSpot holds now: build_plan diffs
those rows against it, so they are re-sent in the usual batches.

- `update` syncs (contacts, deals): records read by id; a record whose synced properties
  differ from sync_state (or that is gone) has drifted.
- id-property syncs (notes upsert, tasks create_once): records read by their unique id
  property; one HubSpot no longer has is re-created. Their values are not compared: a task
  is the owner's once created, and a note body is ours only until someone edits it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from lmsbridge_core.errors import ConfigurationError
from reverse_etl.client import HubSpotClient
from reverse_etl.config import FieldSpec, Sync
from reverse_etl.plan import ConfirmedState
from reverse_etl.results import SyncAborted

READ_BATCH = 100  # HubSpot's batch/read input limit
HISTORY_BATCH = 50  # ... and its limit when propertiesWithHistory is asked for
Values = Mapping[str, str | None]
Progress = Callable[[str, int, int | None], None]


def _blank(value: str | None) -> bool:
    return value is None or value == ""


def _instant(value: str) -> datetime | None:
    """HubSpot returns datetimes as ISO strings, older portals as epoch milliseconds."""
    if value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def same_value(spec: FieldSpec, confirmed: str | None, current: str | None) -> bool:
    """Whether HubSpot's value means what we confirmed, whatever its formatting."""
    if _blank(confirmed) or _blank(current):
        return _blank(confirmed) and _blank(current)
    assert confirmed is not None and current is not None
    if spec.type == "number":
        try:
            return Decimal(confirmed) == Decimal(current)
        except InvalidOperation:
            return confirmed == current
    if spec.type == "bool":
        return confirmed.lower() == current.lower()
    if spec.type == "date":
        return confirmed[:10] == current[:10]
    if spec.type == "datetime":
        a, b = _instant(confirmed), _instant(current)
        return a == b if a is not None and b is not None else confirmed == current
    return confirmed == current


def _behind(spec: FieldSpec, confirmed: str | None, current: str | None) -> bool:
    """A forward-only stage drifted only if HubSpot went back; ahead is someone's progress."""
    order = spec.forward_only or ()
    rank = {value: i for i, value in enumerate(order)}
    return rank.get(current or "", -1) < rank.get(confirmed or "", -1)


def drifted_update(
    sync: Sync, confirmed: ConfirmedState, current: Values | None
) -> ConfirmedState | None:
    """What to diff a drifted `update` record against, or None when HubSpot still matches.

    Properties that still match keep the confirmed (wire) form, so the re-send carries only
    what HubSpot lost; a record HubSpot no longer has is diffed against nothing (all sent).
    """
    if current is None:
        return ConfirmedState(confirmed.hubspot_id, "", {})
    merged: dict[str, str | None] = {}
    drifted = False
    for spec in sync.fields.values():
        if spec.property not in confirmed.properties:
            continue  # not sent (a forward-only null): nothing of ours to lose
        ours, theirs = confirmed.properties[spec.property], current.get(spec.property)
        if spec.forward_only is not None:
            changed = _behind(spec, ours, theirs)
        else:
            changed = not same_value(spec, ours, theirs)
        drifted |= changed
        merged[spec.property] = theirs if changed else ours
    return ConfirmedState(confirmed.hubspot_id, "", merged) if drifted else None


def update_drift(
    sync: Sync, state: Mapping[str, ConfirmedState], current: Mapping[str, Values]
) -> dict[str, ConfirmedState]:
    """Drifted record keys of an `update` sync; `current` is HubSpot's values by record id."""
    out: dict[str, ConfirmedState] = {}
    for key, confirmed in state.items():
        if confirmed.hubspot_id is None:
            continue
        found = drifted_update(sync, confirmed, current.get(confirmed.hubspot_id))
        if found is not None:
            out[key] = found
    return out


def id_value(sync: Sync, key: str, confirmed: ConfirmedState) -> str:
    """The unique id property value a record was written with (its record key by default)."""
    assert sync.id_property is not None
    return str(confirmed.properties.get(sync.id_property) or key)


def missing_records(
    sync: Sync, state: Mapping[str, ConfirmedState], found: Iterable[str]
) -> dict[str, None]:
    """Record keys of an id-property sync whose id value HubSpot no longer has."""
    present = set(found)
    return {key: None for key, c in state.items() if id_value(sync, key, c) not in present}


def batch_read(
    client: HubSpotClient,
    object_type: str,
    ids: list[str],
    properties: list[str],
    *,
    id_property: str | None = None,
    archived: bool = False,
    progress: Progress | None = None,
    label: str = "repair",
    history: list[str] | None = None,
) -> list[dict[str, Any]]:
    """HubSpot's records for `ids`, 100 a call (50 with `history`, the properties whose
    propertiesWithHistory to return); ids HubSpot lacks are simply not returned (a 207 lists
    them in `errors`)."""
    found: list[dict[str, Any]] = []
    size = HISTORY_BATCH if history else READ_BATCH
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    suffix = "?archived=true" if archived else ""
    for done, chunk in enumerate(chunks, start=1):
        body: dict[str, Any] = {"inputs": [{"id": i} for i in chunk], "properties": properties}
        if id_property:
            body["idProperty"] = id_property
        if history:
            body["propertiesWithHistory"] = history
        response = client.call("POST", f"/crm/v3/objects/{object_type}/batch/read{suffix}", body)
        if response.status not in (200, 207):
            raise SyncAborted(
                f"{label}: HubSpot refused batch/read of {object_type} (HTTP {response.status})"
            )
        results = response.body.get("results") if isinstance(response.body, dict) else None
        found += [r for r in results or [] if isinstance(r, dict)]
        if progress is not None:
            progress(label, done, len(chunks))
    return found


def read_current(
    client: HubSpotClient,
    object_type: str,
    ids: list[str],
    properties: list[str],
    *,
    id_property: str | None = None,
    progress: Progress | None = None,
    label: str = "repair",
) -> dict[str, dict[str, str | None]]:
    """HubSpot's values by id (or by `id_property` value); ids HubSpot lacks are absent."""
    out: dict[str, dict[str, str | None]] = {}
    records = batch_read(
        client,
        object_type,
        ids,
        properties,
        id_property=id_property,
        progress=progress,
        label=label,
    )
    for result in records:
        props = result.get("properties") or {}
        key = props.get(id_property) if id_property else result.get("id")
        if key is not None:
            out[str(key)] = {p: props.get(p) for p in properties}
    return out


def scan(
    client: HubSpotClient | None,
    sync: Sync,
    state: Mapping[str, ConfirmedState],
    progress: Progress | None = None,
) -> dict[str, ConfirmedState | None]:
    """Read HubSpot back for every record in sync_state and return the drifted ones."""
    if client is None:
        raise ConfigurationError(
            "sync --repair reads HubSpot: LMSBRIDGE_HUBSPOT_ACCESS_TOKEN is not set"
        )
    label = f"repair {sync.name}"
    if sync.mode == "update":
        ids = sorted({c.hubspot_id for c in state.values() if c.hubspot_id is not None})
        properties = [spec.property for spec in sync.fields.values()]
        current = read_current(
            client, sync.object_type, ids, properties, progress=progress, label=label
        )
        return dict(update_drift(sync, state, current))
    assert sync.id_property is not None
    values = sorted({id_value(sync, k, c) for k, c in state.items()})
    found = read_current(
        client,
        sync.object_type,
        values,
        [sync.id_property],
        id_property=sync.id_property,
        progress=progress,
        label=label,
    )
    return dict(missing_records(sync, state, found))
