"""dlt source for HubSpot CRM: contacts, companies, deals, engagements (calls, emails,
meetings: CRM touches), owners, property definitions and associations, landed in raw_hubspot
(docs/contracts.md section 3).

First run (or full=True): list endpoints, for ids only. Later runs: search on last-modified
(GTE the saved cursor minus a lag, ascending, 200 per page), restarting from the newest
timestamp seen before the 10,000-result cap and switching to hs_object_id order inside a
millisecond that alone holds more than 10,000 records. Either way full records come from
batch/read, which takes the property list in the body (no URL or search-body length limits). Archived records come from `archived=true` lists on every run (search never
returns them), then batch/read with archived=true when there are any.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import dlt
import orjson
from dlt.extract.resource import DltResource

from extract.hubspot_api import HubSpotApi
from extract.hubspot_tables import (
    CONTRACT_ONLY,
    CONTRACT_PROPERTIES,
    HUBSPOT_TABLES,
    MAX_TABLE_NESTING,
    OBJECTS,
    property_columns,
)
from extract.result import ExtractError, Progress, report
from extract.table_hints import nested_hints

LAST_MODIFIED = {
    "contacts": "lastmodifieddate",
    "companies": "hs_lastmodifieddate",
    "deals": "hs_lastmodifieddate",
    "calls": "hs_lastmodifieddate",
    "emails": "hs_lastmodifieddate",
    "meetings": "hs_lastmodifieddate",
}
# Search indexing lags writes by seconds; re-read this much behind the cursor.
LAG_MS = 60_000
SEARCH_PAGE = 200
SEARCH_CAP = 10_000
BATCH_READ = 100
ASSOC_BATCH = 1000
ASSOCIATIONS = (
    ("contacts", "companies"),
    ("deals", "contacts"),
    ("deals", "companies"),
    # read from the engagement side, so an incremental run reads only changed engagements
    ("calls", "contacts"),
    ("emails", "contacts"),
    ("meetings", "contacts"),
)


def _hinted(table: str, rows: list[dict[str, Any]], columns: dict[str, Any] | None = None) -> Any:
    """Rows marked with the table's declared hints; object tables pass their typed columns."""
    declared = HUBSPOT_TABLES[table]
    hints = dlt.mark.make_hints(
        table_name=table,
        write_disposition="merge",
        primary_key=declared["primary_key"],
        columns=columns or declared["columns"],
        nested_hints=nested_hints(declared),
    )
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


def _ms(value: Any) -> int | None:
    """HubSpot datetimes (ISO with Z, or epoch ms strings) as epoch milliseconds."""
    if value in (None, ""):
        return None
    text = str(value)
    if text.isdigit():
        return int(text)
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def convert(kind: str, value: Any) -> Any:
    """Wire strings to typed values; anything unparseable stays as sent (dlt keeps it in a variant)."""
    if value is None or value == "":
        return None
    try:
        if kind == "number":
            return float(value)
        if kind == "bool":
            return {"true": True, "false": False}.get(str(value).lower(), value)
        if kind == "datetime":
            ms = _ms(value)
            return value if ms is None else datetime.fromtimestamp(ms / 1000, UTC)
        if kind == "date":
            text = str(value)
            if text.isdigit():
                return datetime.fromtimestamp(int(text) / 1000, UTC).date()
            return date.fromisoformat(text[:10])
    except (ValueError, OverflowError, OSError):
        return value
    return value


class ObjectSchema:
    """Property definitions of one object type: what to request and how to type it."""

    def __init__(self, object_type: str, definitions: list[dict[str, Any]]) -> None:
        self.object_type = object_type
        # A portal's own definition wins; the contract's type covers a property it leaves out.
        self.kinds = {
            **CONTRACT_PROPERTIES[object_type],
            **{d["name"]: d.get("type", "string") for d in definitions if d.get("name")},
        }
        wanted = {
            n for n, d in ((d.get("name"), d) for d in definitions) if n and not d.get("hidden")
        }
        if object_type in CONTRACT_ONLY:
            wanted = set()
        # the contract columns and the cursor field, hidden or not
        wanted |= set(CONTRACT_PROPERTIES[object_type])
        self.names = sorted(wanted)

    def columns(self) -> dict[str, Any]:
        return dict(property_columns(self.kinds, self.names))

    def row(self, record: dict[str, Any]) -> dict[str, Any]:
        props = record.get("properties") or {}
        row = {n: convert(self.kinds.get(n, "string"), props.get(n)) for n in self.names}
        row.update(
            id=str(record["id"]),
            archived=bool(record.get("archived", False)),
            created_at=convert("datetime", record.get("createdAt")),
            updated_at=convert("datetime", record.get("updatedAt")),
            archived_at=convert("datetime", record.get("archivedAt")),
        )
        return row


@dataclass
class _Sweep:
    """What one paged query saw before it ran out of results or hit the offset cap."""

    exhausted: bool = False
    newest: int | None = None
    max_id: int | None = None


class ChangedSearch:
    """Every record of one object type modified at or after `since_ms`, as {id: stamp}.

    Search stops at an offset of 10,000, so the walk keeps its own state: `cursor` is the
    last-modified stamp the next sweep starts from (GTE, or GT once `cursor` was walked by
    id), restarted at the newest stamp each capped sweep reached; inside one millisecond that
    alone holds more than the cap, `after_id` is a secondary hs_object_id cursor. `found`
    collects every id seen (-1 for a record without a parseable stamp).
    """

    def __init__(
        self,
        api: HubSpotApi,
        object_type: str,
        prop: str,
        since_ms: int,
        progress: Progress | None = None,
    ) -> None:
        self.api = api
        self.object_type = object_type
        self.path = f"/crm/v3/objects/{object_type}/search"
        self.prop = prop
        self.progress = progress
        self.cursor = since_ms
        self.past_cursor = False
        self.after_id = 0
        self.found: dict[str, int] = {}

    def run(self) -> dict[str, int]:
        """Sweep forward by last-modified until a sweep ends before the cap."""
        while True:
            sweep = self._sweep_from_cursor()
            if sweep.exhausted:
                return self.found
            if sweep.newest is not None and sweep.newest > self.cursor:
                self.cursor, self.past_cursor = sweep.newest, False
                continue
            # The cap was reached without leaving this millisecond: walk it by id, then move
            # past it.
            self._walk_millisecond()
            self.past_cursor = True

    def _sweep_from_cursor(self) -> _Sweep:
        """One query ordered by last-modified, from the cursor on."""
        op = "GT" if self.past_cursor else "GTE"
        filters = [{"propertyName": self.prop, "operator": op, "value": str(self.cursor)}]
        sorts = [{"propertyName": self.prop, "direction": "ASCENDING"}]
        return self._sweep(filters, sorts)

    def _walk_millisecond(self) -> None:
        """Every record stamped exactly `cursor`, in hs_object_id order past `after_id`."""
        self.after_id = 0
        while True:
            sweep = self._sweep_millisecond()
            if sweep.exhausted:
                return
            if sweep.max_id is None or sweep.max_id <= self.after_id:
                raise ExtractError(
                    f"HubSpot search {self.path} made no progress inside {self.cursor} ms"
                )
            self.after_id = sweep.max_id

    def _sweep_millisecond(self) -> _Sweep:
        """One query inside the cursor's millisecond, ordered by id, after `after_id`."""
        filters = [
            {"propertyName": self.prop, "operator": "EQ", "value": str(self.cursor)},
            {"propertyName": "hs_object_id", "operator": "GT", "value": str(self.after_id)},
        ]
        sorts = [{"propertyName": "hs_object_id", "direction": "ASCENDING"}]
        return self._sweep(filters, sorts)

    def _sweep(self, filters: list[dict[str, Any]], sorts: list[dict[str, Any]]) -> _Sweep:
        """Page one query until done or the offset cap, recording every record it returns."""
        sweep = _Sweep()
        after = 0
        while True:
            page = self._page(filters, sorts, after)
            for record in page.get("results"):
                self._record(record, sweep)
            report(self.progress, f"hubspot:search:{self.object_type}", len(self.found), None)
            nxt = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not nxt:
                sweep.exhausted = True
                return sweep
            after = int(nxt)
            if after >= SEARCH_CAP:
                return sweep

    def _page(self, filters: list[dict[str, Any]], sorts: list[dict[str, Any]], after: int) -> Any:
        """One search request; refused unless the answer carries a results list."""
        body: dict[str, Any] = {
            "filterGroups": [{"filters": filters}],
            "sorts": sorts,
            "properties": [self.prop, "hs_object_id"],
            "limit": SEARCH_PAGE,
        }
        if after:
            body["after"] = str(after)
        page = self.api.json("POST", self.path, json=body)
        results = page.get("results") if isinstance(page, dict) else None
        if not isinstance(results, list):
            raise ExtractError(f"HubSpot {self.path}: response has no 'results' list")
        return page

    def _record(self, record: dict[str, Any], sweep: _Sweep) -> None:
        """Remember one hit and advance the sweep's newest stamp and highest numeric id."""
        rid = str(record["id"])
        ms = _ms((record.get("properties") or {}).get(self.prop))
        self.found[rid] = ms if ms is not None else -1
        if rid.isdigit():
            sweep.max_id = max(sweep.max_id or 0, int(rid))
        if ms is not None:
            sweep.newest = ms if sweep.newest is None else max(sweep.newest, ms)


class _HubSpotRun:
    def __init__(self, api: HubSpotApi, full: bool, progress: Progress | None) -> None:
        self.api = api
        self.full = full
        self.progress = progress

    def run(self) -> Iterator[Any]:
        state = dlt.current.source_state()
        cursors: dict[str, Any] = state.setdefault("cursors", {})
        fingerprints: dict[str, str] = state.setdefault("fingerprints", {})
        owners = self._owners()
        if _changed(fingerprints, "owners", owners):
            yield _hinted("owners", owners)
        schemas = {}
        for object_type in OBJECTS:
            if object_type in CONTRACT_ONLY:
                # only the contract properties land: no definitions to read
                schemas[object_type] = ObjectSchema(object_type, [])
                continue
            definitions = self._properties(object_type)
            schemas[object_type] = ObjectSchema(object_type, definitions)
            rows = [property_row(object_type, d) for d in definitions]
            if _changed(fingerprints, f"properties:{object_type}", rows):
                yield _hinted("properties", rows)
        for object_type in OBJECTS:
            schema = schemas[object_type]
            saved = cursors.get(object_type)
            if self.full or not saved:
                changed_ids = yield from self._full_list(schema, cursors)
            else:
                changed_ids = yield from self._incremental(schema, cursors, saved)
            yield from self._archived(schema)
            for from_type, to_type in ASSOCIATIONS:
                if from_type == object_type:
                    yield from self._associations(from_type, to_type, changed_ids)

    # -- reference data -------------------------------------------------------------------
    def _owners(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for archived in ("false", "true"):
            for page in self.api.paged("/crm/v3/owners", {"limit": 100, "archived": archived}):
                rows.extend(owner_row(o, listed_archived=archived == "true") for o in page)
        return rows

    def _properties(self, object_type: str) -> list[dict[str, Any]]:
        body = self.api.json(
            "GET", f"/crm/v3/properties/{object_type}", params={"archived": "false"}
        )
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise ExtractError(f"HubSpot properties/{object_type}: response has no 'results' list")
        return [r for r in results if isinstance(r, dict) and r.get("name")]

    # -- records ----------------------------------------------------------------------------
    def _list_ids(self, schema: ObjectSchema, archived: bool) -> list[str]:
        """Ids of every record of a list endpoint, asking for no property but the stamp.

        The properties travel in batch-read bodies instead, which have no length limit: a
        list URL naming every property of a real portal (hundreds) takes several requests
        per page, and HubSpot answers 414 to one that is too long.
        """
        ids: dict[str, None] = {}
        path = f"/crm/v3/objects/{schema.object_type}"
        params = {
            "limit": 100,
            "archived": str(archived).lower(),
            "properties": LAST_MODIFIED[schema.object_type],
        }
        for page in self.api.paged(path, params):
            ids.update((str(record["id"]), None) for record in page)
            report(self.progress, f"hubspot:{schema.object_type}:list", len(ids), None)
        return list(ids)

    def _full_list(self, schema: ObjectSchema, cursors: dict[str, Any]) -> Iterator[Any]:
        ids = self._list_ids(schema, archived=False)
        records = yield from self._batch_read(schema, ids)
        cursors[schema.object_type] = self._boundary(schema, records, None)
        return ids

    def _archived(self, schema: ObjectSchema) -> Iterator[Any]:
        ids = self._list_ids(schema, archived=True)
        if ids:
            yield from self._batch_read(schema, ids, archived=True)

    def _boundary(
        self,
        schema: ObjectSchema,
        records: Iterable[dict[str, Any]],
        previous: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """New cursor = newest last-modified seen; remember ids (and their stamp) near it."""
        prop = LAST_MODIFIED[schema.object_type]
        stamps = {str(r["id"]): _ms((r.get("properties") or {}).get(prop)) for r in records}
        known = [s for s in stamps.values() if s is not None]
        if previous:
            known.append(previous["ms"])
        if not known:
            return previous or {}
        cursor = max(known)
        near = {i: s for i, s in stamps.items() if s is not None and s > cursor - LAG_MS}
        if previous:
            near = {
                **{i: s for i, s in previous.get("near", {}).items() if s > cursor - LAG_MS},
                **near,
            }
        return {"ms": cursor, "near": near}

    def _incremental(
        self, schema: ObjectSchema, cursors: dict[str, Any], saved: dict[str, Any]
    ) -> Iterator[Any]:
        prop = LAST_MODIFIED[schema.object_type]
        since = int(saved["ms"]) - LAG_MS
        hits = ChangedSearch(self.api, schema.object_type, prop, since, self.progress).run()
        near = saved.get("near", {})
        changed = [i for i, ms in hits.items() if near.get(i) != ms]
        records = yield from self._batch_read(schema, changed)
        cursors[schema.object_type] = self._boundary(schema, records, saved)
        return changed

    def _batch_read(
        self, schema: ObjectSchema, ids: list[str], *, archived: bool = False
    ) -> Iterator[Any]:
        records: list[dict[str, Any]] = []
        path = f"/crm/v3/objects/{schema.object_type}/batch/read"
        for start in range(0, len(ids), BATCH_READ):
            inputs = [{"id": i} for i in ids[start : start + BATCH_READ]]
            body = self.api.json(
                "POST",
                path,
                ok=(200, 207),
                params={"archived": str(archived).lower()},
                json={"properties": schema.names, "inputs": inputs},
            )
            page = [r for r in body.get("results", []) if isinstance(r, dict) and r.get("id")]
            if archived:
                # the archived flag is what the models read; batch read may leave it out
                page = [{**r, "archived": True} for r in page]
            records.extend(page)
            report(self.progress, f"hubspot:{schema.object_type}", len(records), len(ids))
            if page:
                yield _hinted(schema.object_type, [schema.row(r) for r in page], schema.columns())
        return records

    # -- associations -------------------------------------------------------------------------
    def _associations(self, from_type: str, to_type: str, ids: list[str]) -> Iterator[Any]:
        path = f"/crm/v4/associations/{from_type}/{to_type}/batch/read"
        for start in range(0, len(ids), ASSOC_BATCH):
            edges: Edges = {i: {} for i in ids[start : start + ASSOC_BATCH]}
            pending = [{"id": i} for i in edges]
            while pending:
                body = self.api.json("POST", path, ok=(200, 207), json={"inputs": pending})
                pending = []
                for result in body.get("results", []) if isinstance(body, dict) else []:
                    from_id = add_edges(edges, result)
                    after = ((result.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        pending.append({"id": from_id, "after": after})
                # 207 items (NO_ASSOCIATIONS_FOUND) just mean zero edges: the empty parent row
                # below still replaces whatever edges that record had before.
            rows = association_rows(from_type, to_type, edges)
            report(
                self.progress,
                f"hubspot:associations:{from_type}->{to_type}",
                start + len(rows),
                len(ids),
            )
            yield _hinted("associations", rows)


# {from id: {(to id, type id): edge row}}; keyed so a paged or repeated edge lands once.
Edges = dict[str, dict[tuple[str, int], dict[str, Any]]]


def add_edges(edges: Edges, result: dict[str, Any]) -> str:
    """Collect one v4 association batch/read result's edges; returns its from id."""
    from_id = str((result.get("from") or {}).get("id"))
    bucket = edges.setdefault(from_id, {})
    for target in result.get("to", []):
        for kind in target.get("associationTypes", []):
            key = (str(target.get("toObjectId")), int(kind.get("typeId")))
            bucket[key] = {
                "to_id": key[0],
                "type_id": key[1],
                "category": kind.get("category"),
                "label": kind.get("label"),
            }
    return from_id


def association_rows(from_type: str, to_type: str, edges: Edges) -> list[dict[str, Any]]:
    """One parent row per from id; an empty edge list still replaces the edges it had."""
    return [
        {
            "from_object_type": from_type,
            "from_id": fid,
            "to_object_type": to_type,
            "edges": sorted(e.values(), key=lambda x: (x["to_id"], x["type_id"])),
        }
        for fid, e in edges.items()
    ]


def owner_row(owner: dict[str, Any], *, listed_archived: bool) -> dict[str, Any]:
    """An owner as landed; the archived list may omit the flag its records carry."""
    return {**owner, "archived": bool(owner.get("archived", listed_archived))}


def _changed(fingerprints: dict[str, str], name: str, rows: list[dict[str, Any]]) -> bool:
    """Reference data is re-read every run but only re-landed when it actually changed."""
    digest = hashlib.sha256(orjson.dumps(rows, option=orjson.OPT_SORT_KEYS)).hexdigest()
    if fingerprints.get(name) == digest:
        return False
    fingerprints[name] = digest
    return True


def property_row(object_type: str, definition: dict[str, Any]) -> dict[str, Any]:
    # Options are per-portal noise for the warehouse; keep the definition itself.
    return {k: v for k, v in definition.items() if k != "options"} | {"object_type": object_type}


@dlt.source(name="hubspot", max_table_nesting=MAX_TABLE_NESTING)
def hubspot_source(
    api: HubSpotApi, full: bool = False, progress: Progress | None = None
) -> DltResource:
    run = _HubSpotRun(api, full, progress)

    def hubspot_crm() -> Iterator[Any]:
        yield from run.run()

    return dlt.resource(hubspot_crm, write_disposition="merge")
