"""Land a generated dataset directory (docs/contracts.md section 1) as the raw warehouse.

The dbt tests and benchmarks need raw tables without running the emulators and the API
extract. This lands the dataset's files through the same dlt pipelines (extract, normalize,
load, into raw_lms, raw_lms_files and raw_hubspot) with the table declarations and row-shaping
functions the API sources use, so what dbt reads is what the production extract writes:
dlt flattens, names, types, adds `_dlt_id`s and puts a value that does not fit its column in a
`<column>__v_text` variant.

- LMS files are the API's records (contracts.md section 1); each file is one resource.
  The users file is a complete read of the school's users at `as_of`: each user is stamped
  `seen_at` = as_of and one `user_sweeps` row records the read, as the API source does.
  An optional `lms/user_not_found.jsonl` holds 404s the API source would have recorded.
- Raw webhook bodies in `lms/webhooks.jsonl` are written by `landing.LandingWriter` (the
  receiver's own writer, so delivery_id and received_at are made as in production) and read
  back with `landing.read_new`, as the LMS source reads them.
- The history CSV goes through `csv_source` itself.
- HubSpot records become rows through `ObjectSchema`, typed by the property definitions the
  dataset carries (`hubspot/properties.jsonl`, its custom properties) over the contract
  properties' declared types, which is how the API source types a portal's records too. The
  sandbox's full property catalogue is not read: extract never imports the sandbox, and the
  contract columns are all the marts need.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import orjson
from dlt.extract.resource import DltResource

from extract import landing
from extract.csv_source import csv_source
from extract.hubspot_source import (
    ASSOCIATIONS,
    Edges,
    ObjectSchema,
    add_edges,
    association_rows,
    owner_row,
    property_row,
)
from extract.hubspot_tables import HUBSPOT_TABLES, OBJECTS
from extract.hubspot_tables import MAX_TABLE_NESTING as HUBSPOT_NESTING
from extract.lms_source import enrollment_row, progress_row, sweep_id, with_event_log_id
from extract.lms_tables import LMS_TABLES
from extract.lms_tables import MAX_TABLE_NESTING as LMS_NESTING
from extract.pipelines import pipelines_dir, run_source
from extract.table_hints import nested_hints
from lmsbridge_core.settings import Settings

# Rows handed to dlt per item: big enough that per-item overhead vanishes, small enough to
# keep memory flat on a 100k-learner dataset.
BATCH = 10_000

# LMS table -> (dataset file, the API source's shaping of one record).
_Shape = Callable[[dict[str, Any]], dict[str, Any]]
LMS_FILES: dict[str, tuple[str, _Shape | None]] = {
    "users": ("users.jsonl", None),
    "courses": ("courses.jsonl", None),
    "enrollments": ("enrollments.jsonl", lambda r: enrollment_row(r["user_id"], r)),
    "user_progress": ("progress.jsonl", lambda r: progress_row(r["user_id"], r)),
    "certificates": ("certificates.jsonl", None),
    "payments": ("payments.jsonl", None),
    # the dataset's grade rows already carry the course_id the API source adds
    "grades": ("grades.jsonl", None),
    "event_logs": ("event_logs.jsonl", with_event_log_id),
    "user_not_found": ("user_not_found.jsonl", None),
}
PIPELINES = {
    "raw_lms": "lmsbridge_dataset_lms",
    "raw_lms_files": "lmsbridge_dataset_lms_files",
    "raw_hubspot": "lmsbridge_dataset_hubspot",
}


def _records(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield orjson.loads(line)


def _batches(records: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _resource(
    table: str, declared: dict[str, Any], data: Any, columns: dict[str, Any] | None = None
) -> DltResource:
    return dlt.resource(
        data,
        name=table,
        write_disposition="merge",
        primary_key=declared["primary_key"],
        columns=columns or declared["columns"],
        nested_hints=nested_hints(declared),
    )


def land_webhooks(bodies: Path, landing_dir: Path, received_at: datetime) -> int:
    """Write each raw body in `bodies` (one per line) as the webhook receiver does."""
    if not bodies.exists():
        return 0
    writer = landing.LandingWriter(landing_dir)
    count = 0
    for line in bodies.read_bytes().splitlines():
        if line.strip():
            writer.append(orjson.loads(line), line, now=received_at)
            count += 1
    return count


@dlt.source(name="lms", max_table_nesting=LMS_NESTING)
def lms_dataset_source(dataset: Path, landing_dir: Path, read_at: float) -> list[DltResource]:
    def seen(record: dict[str, Any]) -> dict[str, Any]:
        return {**record, "seen_at": read_at}

    def sweep() -> Iterator[dict[str, Any]]:
        users = sum(1 for _ in _records(dataset / "lms" / "users.jsonl"))
        yield {
            "sweep_id": sweep_id(read_at),
            "started_at": read_at,
            "finished_at": read_at,
            "users_seen": users,
        }

    def rows(filename: str, shape: _Shape | None) -> Iterator[list[dict[str, Any]]]:
        records = _records(dataset / "lms" / filename)
        yield from _batches(records if shape is None else map(shape, records))

    def webhooks() -> Iterator[list[dict[str, Any]]]:
        for chunk in landing.read_new(landing_dir, {}):
            yield chunk.events

    shapes = {**LMS_FILES, "users": (LMS_FILES["users"][0], seen)}
    resources = [
        _resource(table, LMS_TABLES[table], rows(filename, shape))
        for table, (filename, shape) in shapes.items()
    ]
    resources.append(_resource("user_sweeps", LMS_TABLES["user_sweeps"], sweep()))
    resources.append(_resource("webhook_events", LMS_TABLES["webhook_events"], webhooks()))
    return resources


def _definitions(hubspot: Path) -> dict[str, list[dict[str, Any]]]:
    """Property definitions by object type; the dataset tags each with its `objectType`."""
    by_type: dict[str, list[dict[str, Any]]] = {o: [] for o in OBJECTS}
    for record in _records(hubspot / "properties.jsonl"):
        definition = dict(record)
        object_type = definition.pop("objectType")
        by_type.setdefault(object_type, []).append(definition)
    return by_type


def _association_rows(hubspot: Path) -> Iterator[dict[str, Any]]:
    """Rows as the API source makes them from v4 batch/read results.

    The API source reads the associations of every live (unarchived) record of a from-type,
    so each such record gets a parent row, with no edges when it has none.
    """
    live = {
        from_type: [
            str(r["id"])
            for r in _records(hubspot / f"{from_type}.jsonl")
            if not r.get("archived", False)
        ]
        for from_type in {pair[0] for pair in ASSOCIATIONS}
    }
    edges: dict[tuple[str, str], Edges] = {
        pair: {i: {} for i in live[pair[0]]} for pair in ASSOCIATIONS
    }
    for edge in _records(hubspot / "associations.jsonl"):
        pair = (edge["from_type"], edge["to_type"])
        from_id = str(edge["from_id"])
        if pair not in edges or from_id not in edges[pair]:
            continue  # a direction or record the API source never reads
        kind = {"typeId": edge["type_id"], "category": edge.get("category")}
        if "label" in edge:
            kind["label"] = edge["label"]
        result = {"from": {"id": from_id}, "to": [{"toObjectId": edge["to_id"]}]}
        result["to"][0]["associationTypes"] = [kind]
        add_edges(edges[pair], result)
    for (from_type, to_type), pair_edges in edges.items():
        yield from association_rows(from_type, to_type, pair_edges)


@dlt.source(name="hubspot", max_table_nesting=HUBSPOT_NESTING)
def hubspot_dataset_source(dataset: Path) -> list[DltResource]:
    hubspot = dataset / "hubspot"
    definitions = _definitions(hubspot)
    owners = [
        owner_row(o, listed_archived=bool(o.get("archived", False)))
        for o in _records(hubspot / "owners.jsonl")
    ]
    properties = [property_row(o, d) for o, defs in definitions.items() for d in defs]
    resources = [
        _resource("owners", HUBSPOT_TABLES["owners"], [owners]),
        _resource("properties", HUBSPOT_TABLES["properties"], [properties]),
    ]

    def objects(schema: ObjectSchema) -> Iterator[list[dict[str, Any]]]:
        for batch in _batches(_records(hubspot / f"{schema.object_type}.jsonl")):
            yield [schema.row(record) for record in batch]

    for object_type in OBJECTS:
        schema = ObjectSchema(object_type, definitions.get(object_type, []))
        declared = HUBSPOT_TABLES[object_type]
        resources.append(_resource(object_type, declared, objects(schema), schema.columns()))

    associations = _batches(_association_rows(hubspot))
    resources.append(_resource("associations", HUBSPOT_TABLES["associations"], associations))
    return resources


def dataset_as_of(dataset: Path) -> datetime | None:
    manifest = dataset / "manifest.json"
    if not manifest.exists():
        return None
    as_of = json.loads(manifest.read_text(encoding="utf-8")).get("as_of")
    return datetime.fromisoformat(as_of.replace("Z", "+00:00")) if as_of else None


def land_dataset(
    dataset: Path,
    warehouse: Path,
    *,
    as_of: datetime | None = None,
) -> dict[str, int]:
    """Land `dataset` into a new DuckDB file `warehouse`; returns rows per `dataset.table`.

    `as_of` (else the manifest's, else now) is when webhooks were received and the history
    CSV imported, so a dataset lands the same way every time.
    """
    if warehouse.exists():
        # dlt would restore the pipelines' state from it and skip what it had loaded before.
        raise FileExistsError(f"{warehouse} exists; landing a dataset needs a new warehouse")
    moment = (as_of or dataset_as_of(dataset) or datetime.now(UTC)).astimezone(UTC)
    settings = Settings(_env_file=None, warehouse_path=warehouse)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="lmsbridge-landing-") as landing_dir:
        land_webhooks(dataset / "lms" / "webhooks.jsonl", Path(landing_dir), moment)
        sources = {
            "raw_lms": lms_dataset_source(dataset, Path(landing_dir), moment.timestamp()),
            "raw_lms_files": csv_source(dataset / "history", now=moment),
            "raw_hubspot": hubspot_dataset_source(dataset),
        }
        for raw, source in sources.items():
            name = PIPELINES[raw]
            # A kept work dir may hold an earlier landing's state (loaded CSV hashes).
            shutil.rmtree(pipelines_dir(settings) / name, ignore_errors=True)
            rows = run_source(
                settings,
                name,
                raw,
                source,
                None,
                # DuckDB reads JSON load files itself; the default INSERT statements take
                # ten times as long to load a whole dataset.
                loader_file_format="jsonl",
            )
            counts.update({f"{raw}.{table}": n for table, n in rows.items()})
    return counts
