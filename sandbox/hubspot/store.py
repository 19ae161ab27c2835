"""In-memory CRM records with the indexes the API needs (email, unique values, sort order).

One lock guards everything: routes run in a thread pool and a write touches several indexes.
Sorted indexes are built lazily per property and reused until the next write to that object
type, so paging an incremental search over 100k records does not re-sort per request.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .associations import AssociationStore
from .calculated import recompute_deal
from .clock import ms_to_iso, now_ms, parse_datetime_ms
from .objecttypes import OBJECT_TYPES, ObjectType
from .pipelines import find_stage
from .propdefs import LIFECYCLE_ORDER, PropertyRegistry

# (sourceType, sourceId) of a write, as propertiesWithHistory reports it.
Source = tuple[str, str]
# Writes through the public API with the portal's private-app token.
API_SOURCE: Source = ("API", "private-app")
# Values HubSpot derives itself (calculated deal properties, lifecycle stage dates).
CALCULATED_SOURCE: Source = ("CALCULATED", "crm-calculated-properties")
# Values that came with a loaded dataset, written before the emulator started.
IMPORT_SOURCE: Source = ("IMPORT", "dataset")
MAX_HISTORY = 50  # versions kept per property; older ones are dropped


@dataclass(frozen=True, slots=True)
class Version:
    value: str
    timestamp_ms: int
    source_type: str
    source_id: str


@dataclass(slots=True)
class Record:
    id: str
    props: dict[str, str]
    created_ms: int
    updated_ms: int
    archived: bool = False
    archived_ms: int | None = None
    # Versions per property, newest first; None until the record is first written here.
    history: dict[str, list[Version]] | None = None
    # Search sees `indexed` (None: not at all, for a new record) until `indexed_due_ms`.
    indexed: dict[str, str] | None = None
    indexed_due_ms: int = 0

    def remember(
        self, name: str, value: str, stamp: int, source: Source, previous: str | None
    ) -> None:
        if self.history is None:
            self.history = {}
        if name not in self.history:
            # The first recorded write keeps the loaded value it replaces as the older version.
            self.history[name] = self.versions_before(name, previous)
        versions = self.history[name]
        versions.insert(0, Version(value, stamp, *source))
        del versions[MAX_HISTORY:]

    def versions_before(self, name: str, previous: str | None) -> list[Version]:
        return [Version(previous, self.updated_ms, *IMPORT_SOURCE)] if previous else []

    def versions(self, name: str) -> list[Version]:
        """A property's history; a value loaded from a dataset counts as one imported version."""
        if self.history is not None and name in self.history:
            return self.history[name]
        return self.versions_before(name, self.props.get(name))


@dataclass
class SortIndex:
    epoch: int
    ptype: str  # the property type the keys were computed for
    log_pos: int  # how much of the table's change log this index has absorbed
    entries: list[tuple[Any, int]]  # (key, id) for records with a value, sorted
    key_of: dict[int, Any]  # id -> key, to find an entry again when its record changes
    missing: list[int]  # ids without a value, sorted


# Past this many changed records a full rebuild is cheaper than patching entry by entry.
INCREMENTAL_LIMIT = 5000
MAX_LOG = 200_000


@dataclass
class Table:
    ot: ObjectType
    records: dict[str, Record] = field(default_factory=dict)
    epoch: int = 0  # bumped by bulk changes (load, clear): every index is rebuilt
    log: list[str] = field(default_factory=list)  # ids written since the epoch began
    _id_order: tuple[int, list[int]] | None = None
    _ids_epoch: int = 0  # bumped when ids are added or removed
    _sorts: dict[str, SortIndex] = field(default_factory=dict)

    def bulk_changed(self) -> None:
        self.epoch += 1
        self._ids_epoch += 1
        self.log.clear()
        self._sorts.clear()

    def changed(self, record_id: str, *, ids_changed: bool = False) -> None:
        self.log.append(record_id)
        if ids_changed:
            self._ids_epoch += 1
        if len(self.log) > MAX_LOG:
            self.bulk_changed()

    def ordered_ids(self) -> list[int]:
        if self._id_order is None or self._id_order[0] != self._ids_epoch:
            self._id_order = (self._ids_epoch, sorted(int(i) for i in self.records))
        return self._id_order[1]


def sort_key(ptype: str, value: str) -> Any:
    """A comparable key for a stored value of the given property type (None if unparsable)."""
    if ptype == "number":
        try:
            return float(value)
        except ValueError:
            return None
    if ptype == "datetime":
        return parse_datetime_ms(value)
    if ptype == "date":
        if value.isdigit():
            return ms_to_iso(int(value))[:10]
        return value
    if ptype in ("enumeration", "bool"):
        return value
    return value.lower()


class Conflict(Exception):
    def __init__(self, message: str, existing_id: str) -> None:
        super().__init__(message)
        self.message = message
        self.existing_id = existing_id


class Store:
    def __init__(self, registry: PropertyRegistry) -> None:
        self.lock = threading.RLock()
        self.registry = registry
        self.tables: dict[str, Table] = {name: Table(ot) for name, ot in OBJECT_TYPES.items()}
        self.assoc = AssociationStore()
        self.owners: dict[str, dict[str, Any]] = {}
        self.emails: dict[str, str] = {}  # lowercased primary email -> contact id
        # Merged-away contact id -> the id it was merged into. HubSpot keeps answering reads and
        # updates of a merged-away id with the surviving record, so lookups follow this map.
        self.merged_into: dict[str, str] = {}
        self.unique: dict[tuple[str, str], dict[str, str]] = {}
        self.next_id = 1000
        self.index_lag_ms = 0  # set from HubSpotConfig.search_index_lag_ms by the portal

    def clear(self) -> None:
        with self.lock:
            for table in self.tables.values():
                table.records.clear()
                table.bulk_changed()
            self.assoc.clear()
            self.owners.clear()
            self.emails.clear()
            self.merged_into.clear()
            self.unique.clear()
            self.next_id = 1000

    # -- ids and lookups -------------------------------------------------------------
    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def seen_id(self, record_id: str) -> None:
        if record_id.isdigit() and int(record_id) >= self.next_id:
            self.next_id = int(record_id)

    def get(self, object_type: str, record_id: str, *, archived: bool = False) -> Record | None:
        rec = self.tables[object_type].records.get(record_id)
        if rec is None or rec.archived != archived:
            return None
        return rec

    def _unique_index(self, object_type: str, name: str) -> dict[str, str]:
        key = (object_type, name)
        index = self.unique.get(key)
        if index is None:
            index = {
                r.props[name]: r.id
                for r in self.tables[object_type].records.values()
                if not r.archived and r.props.get(name)
            }
            self.unique[key] = index
        return index

    def find_by(self, object_type: str, id_property: str | None, value: str) -> Record | None:
        """Resolve a record by id, by email (contacts) or by a hasUniqueValue property."""
        if not id_property or id_property == "hs_object_id":
            return self.get(object_type, self.survivor_id(object_type, value))
        if object_type == "contacts" and id_property == "email":
            found = self.emails.get(value.strip().lower())
        else:
            found = self._unique_index(object_type, id_property).get(value)
        return self.get(object_type, found) if found else None

    def survivor_id(self, object_type: str, record_id: str) -> str:
        """The id a merged-away contact lives on as (itself when it was never merged away)."""
        if object_type != "contacts":
            return record_id
        seen = {record_id}
        while record_id in self.merged_into and self.merged_into[record_id] not in seen:
            record_id = self.merged_into[record_id]
            seen.add(record_id)
        return record_id

    def can_identify_by(self, object_type: str, id_property: str) -> bool:
        if object_type == "contacts" and id_property == "email":
            return True
        return self.registry.is_unique(object_type, id_property)

    # -- writes ----------------------------------------------------------------------
    def conflict_for(self, object_type: str, record_id: str | None, clean: dict[str, str]) -> None:
        """Raise Conflict if a value must be unique and another record already holds it."""
        ot = OBJECT_TYPES[object_type]
        if object_type == "contacts" and clean.get("email"):
            owner = self.emails.get(clean["email"])
            if owner is not None and owner != record_id:
                raise Conflict(f"Contact already exists. Existing ID: {owner}", owner)
        for name in self.registry.unique_names(object_type):
            value = clean.get(name)
            if not value:
                continue
            owner = self._unique_index(object_type, name).get(value)
            if owner is not None and owner != record_id:
                raise Conflict(
                    f"A {ot.singular} with {name} {value} already exists. Existing ID: {owner}",
                    owner,
                )

    def _index_value(self, object_type: str, rec: Record, name: str, old: str | None) -> None:
        new = rec.props.get(name)
        if object_type == "contacts" and name == "email":
            if old and self.emails.get(old) == rec.id:
                del self.emails[old]
            if new and not rec.archived:
                self.emails[new] = rec.id
        index = self.unique.get((object_type, name))
        if index is not None:
            if old and index.get(old) == rec.id:
                del index[old]
            if new and not rec.archived:
                index[new] = rec.id

    def _set(
        self,
        object_type: str,
        rec: Record,
        name: str,
        value: str,
        stamp: int | None = None,
        source: Source | None = None,
    ) -> None:
        old = rec.props.get(name)
        if value == "":
            rec.props.pop(name, None)
        else:
            rec.props[name] = value
        if old != rec.props.get(name):
            self._index_value(object_type, rec, name, old)
            if stamp is not None and source is not None:
                rec.remember(name, value, stamp, source, old)

    def _apply(
        self,
        object_type: str,
        rec: Record,
        clean: dict[str, str],
        stamp: int,
        source: Source = API_SOURCE,
    ) -> None:
        for name, value in clean.items():
            if name == "lifecyclestage" and value:
                old = rec.props.get(name)
                if (
                    old in LIFECYCLE_ORDER
                    and value in LIFECYCLE_ORDER
                    and LIFECYCLE_ORDER.index(value) < LIFECYCLE_ORDER.index(old)
                ):
                    continue  # HubSpot accepts a backward move and silently ignores it
                if old != value:
                    date_name = f"hs_lifecyclestage_{value}_date"
                    self._set(
                        object_type, rec, date_name, ms_to_iso(stamp), stamp, CALCULATED_SOURCE
                    )
            self._set(object_type, rec, name, value, stamp, source)

    def _stamp_modified(self, object_type: str, rec: Record, stamp: int) -> None:
        ot = OBJECT_TYPES[object_type]
        rec.updated_ms = stamp
        rec.props[ot.modified_prop] = ms_to_iso(stamp)
        if object_type == "contacts":
            rec.props["hs_lastmodifieddate"] = ms_to_iso(stamp)

    def _derive(
        self, object_type: str, rec: Record, stamp: int, previous_stage: str | None
    ) -> None:
        if object_type == "deals":
            recompute_deal(
                rec.props,
                lambda name, value: self._set(
                    object_type, rec, name, value, stamp, CALCULATED_SOURCE
                ),
                stamp,
                previous_stage,
            )

    def _queue_for_index(self, rec: Record, stamp: int, *, new: bool) -> None:
        """Search indexes a write seconds after it (reference section 3, "eventual
        consistency"): until then search matches and returns the record as it was before the
        first unindexed write, and a new record not at all. Get, list and batch read do not lag."""
        if self.index_lag_ms <= 0:
            return
        if new:
            rec.indexed = None
        elif rec.indexed_due_ms <= now_ms():
            rec.indexed = dict(rec.props)
        rec.indexed_due_ms = stamp + self.index_lag_ms

    def search_view(self, rec: Record, now: int) -> Record | None:
        """The record as search sees it at `now` (None: not indexed yet)."""
        if now >= rec.indexed_due_ms:
            return rec
        if rec.indexed is None:
            return None
        return replace(rec, props=rec.indexed)

    def create(
        self, object_type: str, clean: dict[str, str], source: Source = API_SOURCE
    ) -> Record:
        ot = OBJECT_TYPES[object_type]
        stamp = now_ms()
        rec = Record(self.new_id(), {}, stamp, stamp)
        self._queue_for_index(rec, stamp, new=True)
        self._set(object_type, rec, "hs_object_id", rec.id, stamp, CALCULATED_SOURCE)
        self._set(object_type, rec, ot.created_prop, ms_to_iso(stamp), stamp, CALCULATED_SOURCE)
        self._apply(object_type, rec, clean, stamp, source)
        self._derive(object_type, rec, stamp, None)
        self._stamp_modified(object_type, rec, stamp)
        table = self.tables[object_type]
        table.records[rec.id] = rec
        table.changed(rec.id, ids_changed=True)
        return rec

    def update(
        self, object_type: str, rec: Record, clean: dict[str, str], source: Source = API_SOURCE
    ) -> Record:
        stamp = max(now_ms(), rec.updated_ms)
        previous_stage = rec.props.get("dealstage")
        self._queue_for_index(rec, stamp, new=False)
        self._apply(object_type, rec, clean, stamp, source)
        self._derive(object_type, rec, stamp, previous_stage)
        self._stamp_modified(object_type, rec, stamp)
        self.tables[object_type].changed(rec.id)
        return rec

    def set_modified(self, object_type: str, rec: Record, stamp: int) -> None:
        self._stamp_modified(object_type, rec, stamp)
        self.tables[object_type].changed(rec.id)

    def archive(self, object_type: str, rec: Record) -> None:
        rec.archived = True
        rec.archived_ms = now_ms()
        for name, value in list(rec.props.items()):
            self._index_value(object_type, rec, name, value)
        self.tables[object_type].changed(rec.id)

    def remove(self, object_type: str, rec: Record) -> None:
        """Drop a record completely (the secondary of a merge)."""
        self.archive(object_type, rec)
        del self.tables[object_type].records[rec.id]
        self.tables[object_type].changed(rec.id, ids_changed=True)
        self.assoc.drop_record(object_type, rec.id)

    def insert_loaded(self, object_type: str, rec: Record) -> None:
        """Add a record from a dataset file as-is (the generator already made it valid)."""
        if object_type == "deals":
            # A generated deal carries no stage history: take the close date (closed deals) or
            # the create date as the time it entered its current stage.
            stage = find_stage("deals", rec.props.get("dealstage", ""))
            closed = stage is not None and stage["metadata"].get("isClosed") == "true"
            close_ms = parse_datetime_ms(rec.props.get("closedate", ""))
            entered = close_ms if closed and close_ms is not None else rec.created_ms
            props = rec.props

            def put(name: str, value: str) -> None:
                if value:
                    props[name] = value
                else:
                    props.pop(name, None)

            recompute_deal(props, put, entered, None)
        table = self.tables[object_type]
        table.records[rec.id] = rec
        self.seen_id(rec.id)
        if object_type == "contacts" and not rec.archived:
            email = rec.props.get("email")
            if email:
                self.emails[email] = rec.id

    def finish_load(self) -> None:
        for table in self.tables.values():
            table.bulk_changed()
        self.unique.clear()

    # -- ordered access for lists and search -----------------------------------------
    def _key(self, ptype: str, rec: Record | None, name: str) -> Any:
        raw = rec.props.get(name) if rec is not None else None
        return sort_key(ptype, raw) if raw else None

    def sort_index(self, object_type: str, name: str) -> SortIndex:
        """The index of `name`, patched with the records written since it was last used."""
        table = self.tables[object_type]
        prop = self.registry.get(object_type, name)
        ptype = prop["type"] if prop else "string"
        index = table._sorts.get(name)
        pending = len(table.log) - index.log_pos if index is not None else 0
        if (
            index is None
            or index.epoch != table.epoch
            or index.ptype != ptype
            or pending > INCREMENTAL_LIMIT
        ):
            index = self._build_index(table, name, ptype)
            table._sorts[name] = index
        elif pending:
            self._patch_index(table, index, name, ptype)
        return index

    def _build_index(self, table: Table, name: str, ptype: str) -> SortIndex:
        entries: list[tuple[Any, int]] = []
        missing: list[int] = []
        key_of: dict[int, Any] = {}
        for rec in table.records.values():
            key = self._key(ptype, rec, name)
            rid = int(rec.id)
            if key is None:
                missing.append(rid)
            else:
                entries.append((key, rid))
                key_of[rid] = key
        entries.sort()
        missing.sort()
        return SortIndex(table.epoch, ptype, len(table.log), entries, key_of, missing)

    def _patch_index(self, table: Table, index: SortIndex, name: str, ptype: str) -> None:
        for record_id in set(table.log[index.log_pos :]):
            rid = int(record_id)
            old = index.key_of.pop(rid, None)
            if old is not None:
                pos = bisect.bisect_left(index.entries, (old, rid))
                del index.entries[pos]
            else:
                pos = bisect.bisect_left(index.missing, rid)
                if pos < len(index.missing) and index.missing[pos] == rid:
                    del index.missing[pos]
            rec = table.records.get(record_id)
            if rec is None:
                continue  # removed (merged away)
            key = self._key(ptype, rec, name)
            if key is None:
                bisect.insort(index.missing, rid)
            else:
                bisect.insort(index.entries, (key, rid))
                index.key_of[rid] = key
        index.log_pos = len(table.log)

    def ordered(self, object_type: str, name: str, *, descending: bool) -> list[str]:
        """All ids ordered by `name`; records without a value come last either way."""
        index = self.sort_index(object_type, name)
        with_value = [str(rid) for _, rid in index.entries]
        if descending:
            with_value.reverse()
        return with_value + [str(rid) for rid in index.missing]

    def range_ids(
        self, object_type: str, name: str, low: Any | None, high: Any | None
    ) -> list[str]:
        """Ids whose value of `name` is in [low, high] (either end open when None)."""
        entries = self.sort_index(object_type, name).entries
        start = 0 if low is None else bisect.bisect_left(entries, (low,))
        end = len(entries) if high is None else bisect.bisect_right(entries, (high, math.inf))
        return [str(rid) for _, rid in entries[start:end]]

    def live(self, object_type: str, ids: Iterable[str]) -> Iterable[Record]:
        records = self.tables[object_type].records
        for record_id in ids:
            rec = records.get(record_id)
            if rec is not None and not rec.archived:
                yield rec
