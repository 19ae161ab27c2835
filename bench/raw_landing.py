"""Land a generated dataset directory as the raw warehouse tables dbt reads.

Stands in for the dlt extract (docs/contracts.md section 3) for the dbt benchmarks and the
dbt tests (tests may import bench; bench never imports tests): same schemas, tables, column names and types, flattened with dlt's `__`
convention and carrying `_dlt_load_id` / `_dlt_id`. Input is the dataset format of
contracts.md section 1, plus an optional `lms/webhooks.jsonl` of raw webhook bodies.

Like dlt, a value that cannot be coerced to its column's type (a string where a double is
hinted) lands in a variant column `<column>__v_text`, created only when such a value occurs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import duckdb

LOAD_ID = "1767225600.000001"

# (schema, table) -> ordered (column, DuckDB type); mirrors contracts.md section 3.
RAW_TABLES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("raw_lms", "users"): [
        ("id", "varchar"),
        ("email", "varchar"),
        ("username", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("subscribed_for_marketing_emails", "boolean"),
        ("created", "double"),
        ("last_login", "double"),
        ("is_suspended", "boolean"),
        ("fields__company", "varchar"),
    ],
    ("raw_lms", "courses"): [
        ("id", "varchar"),
        ("title", "varchar"),
        ("access", "varchar"),
        ("created", "double"),
        ("modified", "double"),
        ("final_price", "double"),
    ],
    ("raw_lms", "courses__categories"): [("value", "varchar")],
    ("raw_lms", "enrollments"): [
        ("user_id", "varchar"),
        ("course_id", "varchar"),
        ("created", "double"),
        ("expires", "double"),
    ],
    ("raw_lms", "user_progress"): [
        ("user_id", "varchar"),
        ("course_id", "varchar"),
        ("status", "varchar"),
        ("progress_rate", "double"),
        ("average_score_rate", "double"),
        ("time_on_course", "double"),
        ("total_units", "bigint"),
        ("completed_units", "bigint"),
        ("completed_at", "double"),
    ],
    ("raw_lms", "certificates"): [
        ("id", "varchar"),
        ("title", "varchar"),
        ("issued", "double"),
        ("type", "varchar"),
        ("status", "varchar"),
        ("score", "varchar"),
        ("user__id", "varchar"),
        ("user__email", "varchar"),
        ("course_id", "varchar"),
    ],
    ("raw_lms", "payments"): [
        ("id", "varchar"),
        ("type", "varchar"),
        ("price", "double"),
        ("discount", "double"),
        ("refund_at", "double"),
        ("user_id", "varchar"),
        ("paid_at", "double"),
        ("created", "double"),
        ("product__id", "varchar"),
        ("product__type", "varchar"),
        ("product__name", "varchar"),
    ],
    ("raw_lms", "grades"): [
        ("id", "varchar"),
        ("course_id", "varchar"),
        ("user_id", "varchar"),
        ("email", "varchar"),
        ("grade", "double"),
        ("created", "double"),
        ("modified", "double"),
        ("submitted_timestamp", "double"),
        ("learning_unit__id", "varchar"),
        ("learning_unit__type", "varchar"),
    ],
    ("raw_lms", "event_logs"): [
        ("event_log_id", "varchar"),
        ("user__id", "varchar"),
        ("created", "double"),
        ("activity", "varchar"),
        ("description", "varchar"),
        ("type", "varchar"),
    ],
    ("raw_lms", "webhook_events"): [
        ("delivery_id", "varchar"),
        ("received_at", "timestamptz"),
        ("type", "varchar"),
        ("trigger", "varchar"),
        ("school_id", "varchar"),
        ("data__user__id", "varchar"),
        ("data__user__email", "varchar"),
        ("data__course__id", "varchar"),
        ("data__course__title", "varchar"),
        ("data__completed_at", "double"),
        ("data__date", "double"),
        ("data__certificate__id", "varchar"),
        ("data__certificate__course_id", "varchar"),
        ("data__certificate__issued", "double"),
        ("data__certificate__score", "varchar"),
        ("data__payment__id", "varchar"),
        ("data__payment__product__id", "varchar"),
        ("data__payment__product__type", "varchar"),
        ("data__payment__price", "double"),
        ("data__payment__created", "double"),
    ],
    ("raw_lms_files", "lms_history_events"): [
        ("event_key", "varchar"),
        ("learner_email", "varchar"),
        ("lms_user_id", "varchar"),
        ("course_id", "varchar"),
        ("course_name", "varchar"),
        ("event_type", "varchar"),
        ("score", "double"),
        ("occurred_at", "timestamptz"),
        ("lms", "varchar"),
        ("external_event_id", "varchar"),
        ("source_file", "varchar"),
        ("source_line", "bigint"),
    ],
    ("raw_lms_files", "rejected_rows"): [
        ("source_file", "varchar"),
        ("source_line", "bigint"),
        ("reason", "varchar"),
        ("raw_line", "varchar"),
        ("rejected_at", "timestamptz"),
    ],
    ("raw_hubspot", "contacts"): [
        ("id", "varchar"),
        ("email", "varchar"),
        ("firstname", "varchar"),
        ("lastname", "varchar"),
        ("lifecyclestage", "varchar"),
        ("hubspot_owner_id", "varchar"),
        ("hs_additional_emails", "varchar"),
        ("lms_user_id", "varchar"),
        ("hs_merged_object_ids", "varchar"),
        ("createdate", "timestamptz"),
        ("lastmodifieddate", "timestamptz"),
        ("archived", "boolean"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ],
    ("raw_hubspot", "companies"): [
        ("id", "varchar"),
        ("name", "varchar"),
        ("domain", "varchar"),
        ("createdate", "timestamptz"),
        ("hs_lastmodifieddate", "timestamptz"),
        ("archived", "boolean"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ],
    ("raw_hubspot", "deals"): [
        ("id", "varchar"),
        ("dealname", "varchar"),
        ("amount", "double"),
        ("dealstage", "varchar"),
        ("pipeline", "varchar"),
        ("closedate", "timestamptz"),
        ("createdate", "timestamptz"),
        ("hs_lastmodifieddate", "timestamptz"),
        ("hubspot_owner_id", "varchar"),
        ("archived", "boolean"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
    ],
    ("raw_hubspot", "owners"): [
        ("id", "varchar"),
        ("email", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("user_id", "varchar"),
        ("type", "varchar"),
        ("archived", "boolean"),
    ],
    ("raw_hubspot", "associations"): [
        ("from_object_type", "varchar"),
        ("from_id", "varchar"),
        ("to_object_type", "varchar"),
    ],
    ("raw_hubspot", "associations__edges"): [
        ("to_id", "varchar"),
        ("type_id", "bigint"),
        ("category", "varchar"),
        ("label", "varchar"),
    ],
}
CHILD_TABLES = {"courses__categories", "associations__edges"}


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _sha1(*parts: object) -> str:
    return hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode()).hexdigest()


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """dlt-style flattening: nested dicts become `parent__child`, camelCase becomes snake_case."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = prefix + _snake(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "__"))
        else:
            flat[name] = value
    return flat


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _iso(value: Any) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), tz=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class _Writer:
    """Streams rows per table to CSV files, then bulk-loads them with the dlt metadata columns.

    Streaming keeps memory flat at millions of rows; the CSV + COPY route is far faster than
    executemany.
    """

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.counts: dict[tuple[str, str], int] = dict.fromkeys(RAW_TABLES, 0)
        self._handles: dict[tuple[str, str], TextIO] = {}
        self._writers: dict[tuple[str, str], Any] = {}
        # (dlt id, column, text) of values dlt would have put in a variant column
        self.variants: dict[tuple[str, str], list[tuple[str, str, str]]] = {}

    def _path(self, key: tuple[str, str]) -> Path:
        return self.scratch / f"{key[0]}.{key[1]}.csv"

    def add(self, key: tuple[str, str], record: dict[str, Any], **extra: Any) -> str:
        dlt_id = uuid.uuid4().hex[:14]
        values = []
        for column, kind in RAW_TABLES[key]:
            value, variant = _coerce(kind, record.get(column))
            values.append(value)
            if variant is not None:
                self.variants.setdefault(key, []).append((dlt_id, column, variant))
        meta = [extra.get("parent_id"), extra.get("list_idx", 0)] if key[1] in CHILD_TABLES else []
        writer = self._writers.get(key)
        if writer is None:
            handle = self._path(key).open("w", encoding="utf-8", newline="")
            self._handles[key] = handle
            writer = self._writers[key] = csv.writer(handle)
        writer.writerow([_csv_value(v) for v in (*values, *meta, LOAD_ID, dlt_id)])
        self.counts[key] += 1
        return dlt_id

    def flush(self, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
        """Create every table and load the rows streamed to it."""
        for handle in self._handles.values():
            handle.close()
        counts: dict[str, int] = {}
        for key in RAW_TABLES:
            schema, table = key
            _create_table(con, key)
            if key in self._handles:
                con.execute(
                    f"copy {schema}.{table} from '{self._path(key)}' "
                    "(format csv, header false, nullstr '\\N', quote '\"', escape '\"')"
                )
                self._path(key).unlink()
            _add_variants(con, key, self.variants.get(key, []))
            counts[f"{schema}.{table}"] = self.counts[key]
        return counts


def _create_table(con: duckdb.DuckDBPyConnection, key: tuple[str, str]) -> None:
    schema, table = key
    con.execute(f"create schema if not exists {schema}")
    cols = [f"{c} {t}" for c, t in RAW_TABLES[key]]
    if table in CHILD_TABLES:
        cols += ["_dlt_parent_id varchar", "_dlt_list_idx bigint"]
    cols += ["_dlt_load_id varchar not null", "_dlt_id varchar not null"]
    con.execute(f"create or replace table {schema}.{table} ({', '.join(cols)})")


_NUMERIC = {"double": float, "bigint": int}


def _coerce(kind: str, value: Any) -> tuple[Any, str | None]:
    """(value for the typed column, text for the variant column) as dlt's normalizer does."""
    if value is None or isinstance(value, datetime):
        return value, None
    if kind == "varchar":
        return (str(value).lower() if isinstance(value, bool) else str(value)), None
    if kind in _NUMERIC and isinstance(value, int | float) and not isinstance(value, bool):
        return _NUMERIC[kind](value), None
    if kind == "boolean" and isinstance(value, bool):
        return value, None
    if isinstance(value, str):
        try:
            if kind in _NUMERIC:
                return _NUMERIC[kind](value), None
            if kind == "timestamptz":
                return _iso(value), None
        except ValueError:
            pass
    return None, str(value)


def _add_variants(
    con: duckdb.DuckDBPyConnection, key: tuple[str, str], variants: list[tuple[str, str, str]]
) -> None:
    schema, table = key
    for column in sorted({column for _, column, _ in variants}):
        con.execute(f"alter table {schema}.{table} add column {column}__v_text varchar")
    for dlt_id, column, text in variants:
        con.execute(
            f"update {schema}.{table} set {column}__v_text = ? where _dlt_id = ?", [text, dlt_id]
        )


def _csv_value(value: Any) -> Any:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# Big LMS tables DuckDB reads straight from JSONL: (file, table) in landing order.
NATIVE_JSONL = (
    ("users.jsonl", "users"),
    ("enrollments.jsonl", "enrollments"),
    ("progress.jsonl", "user_progress"),
    ("certificates.jsonl", "certificates"),
    ("payments.jsonl", "payments"),
    ("grades.jsonl", "grades"),
    ("event_logs.jsonl", "event_logs"),
)
# Source JSON keys whose dlt column name differs (dlt snake-cases camelCase keys).
_JSON_KEYS = {"submitted_timestamp": "submittedTimestamp", "learning_unit": "learningUnit"}
_DERIVED = {"event_log_id"}


def _json_columns(table: str) -> tuple[dict[str, str], list[str], list[str]]:
    """read_json `columns` (every value as text), the select list and its variant columns.

    Reading values as text keeps JSON numbers exactly as written, which the event log id
    hashes; the try-cast to the contract type happens on insert, and text that does not cast
    goes to `<column>__v_text`, as dlt does with a value it cannot coerce.
    """
    nested: dict[str, list[str]] = {}
    select: list[str] = []
    variants: list[str] = []
    variant_select: list[str] = []
    for column, kind in RAW_TABLES[("raw_lms", table)]:
        if column in _DERIVED:
            continue
        parts = [_JSON_KEYS.get(p, p) for p in column.split("__")]
        if len(parts) == 1:
            nested.setdefault(parts[0], [])
            text = f'"{parts[0]}"'
        else:
            nested.setdefault(parts[0], []).append(parts[1])
            text = f'"{parts[0]}"."{parts[1]}"'
        if kind == "varchar":
            select.append(text)
            continue
        select.append(f"try_cast({text} as {kind})")
        variants.append(f"{column}__v_text")
        variant_select.append(f"case when try_cast({text} as {kind}) is null then {text} end")
    read = {
        key: f"STRUCT({', '.join(f'{f} VARCHAR' for f in fields)})" if fields else "VARCHAR"
        for key, fields in nested.items()
    }
    return read, select + variant_select, variants


def _land_native_jsonl(con: duckdb.DuckDBPyConnection, lms: Path) -> dict[str, int]:
    """Insert the big LMS tables with DuckDB's JSON reader, rows as the Python path makes."""
    counts: dict[str, int] = {}
    dlt_id = "substr(replace(cast(gen_random_uuid() as varchar), '-', ''), 1, 14)"
    for filename, table in NATIVE_JSONL:
        path = lms / filename
        counts[f"raw_lms.{table}"] = 0
        if not path.exists() or path.stat().st_size == 0:
            continue
        read, select, variants = _json_columns(table)
        for variant in variants:
            con.execute(f"alter table raw_lms.{table} add column {variant} varchar")
        if table == "event_logs":
            # Same id as a sha1 over "user id|created|activity", created as written in JSON.
            select.insert(
                0,
                "sha1(concat_ws('|', coalesce(\"user\".id, ''), coalesce(created, ''), "
                "coalesce(activity, '')))",
            )
        columns = ", ".join(f"'{k}': '{v}'" for k, v in read.items())
        names = [c for c, _ in RAW_TABLES[("raw_lms", table)]] + variants
        con.execute(
            f"insert into raw_lms.{table} ({', '.join([*names, '_dlt_load_id', '_dlt_id'])}) "
            f"select {', '.join(select)}, '{LOAD_ID}', {dlt_id} "
            f"from read_json(?, format = 'newline_delimited', columns = {{{columns}}})",
            [str(path)],
        )
        # dlt creates a variant column only when a value needed one
        used = con.execute(
            f"select {', '.join(f'count({v})' for v in variants)} from raw_lms.{table}"
        ).fetchone()
        for variant, count in zip(variants, used or (), strict=True):
            if not count:
                con.execute(f"alter table raw_lms.{table} drop column {variant}")
        counts[f"raw_lms.{table}"] = con.execute(
            f"select count(*) from raw_lms.{table}"
        ).fetchone()[0]
    return counts


def _land_lms(dataset: Path, out: _Writer) -> None:
    """The small LMS tables; NATIVE_JSONL covers the rest."""
    lms = dataset / "lms"
    for course in _read_jsonl(lms / "courses.jsonl"):
        parent = out.add(("raw_lms", "courses"), _flatten(course))
        for idx, category in enumerate(course.get("categories") or []):
            out.add(
                ("raw_lms", "courses__categories"),
                {"value": category},
                parent_id=parent,
                list_idx=idx,
            )
    webhooks = lms / "webhooks.jsonl"
    if webhooks.exists():
        for line in webhooks.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            flat = _flatten(json.loads(line))
            flat["delivery_id"] = hashlib.sha256(line.encode()).hexdigest()
            flat["received_at"] = datetime(2026, 6, 1, tzinfo=UTC)
            if flat.get("data__certificate__score") is not None:
                flat["data__certificate__score"] = str(flat["data__certificate__score"])
            out.add(("raw_lms", "webhook_events"), flat)


def _land_history(dataset: Path, out: _Writer) -> None:
    path = dataset / "history" / "lms_history.csv"
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                occurred = _iso(row["occurred_at"])
                score = float(row["score"]) if row.get("score") else None
            except ValueError as exc:
                out.add(
                    ("raw_lms_files", "rejected_rows"),
                    {
                        "source_file": path.name,
                        "source_line": line_no,
                        "reason": f"unparseable value: {exc}",
                        "raw_line": json.dumps(row),
                        "rejected_at": datetime(2026, 6, 1, tzinfo=UTC),
                    },
                )
                continue
            record: dict[str, Any] = dict(row)
            record.update(
                occurred_at=occurred, score=score, source_file=path.name, source_line=line_no
            )
            record["event_key"] = row.get("external_event_id") or _sha1(
                row.get("lms"),
                row.get("lms_user_id") or row.get("learner_email"),
                row.get("course_id"),
                row.get("event_type"),
                row.get("occurred_at"),
            )
            out.add(("raw_lms_files", "lms_history_events"), record)


def _hubspot_object(record: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = dict(record.get("properties") or {})
    flat.update(
        id=str(record["id"]),
        archived=bool(record.get("archived", False)),
        created_at=_iso(record.get("createdAt")),
        updated_at=_iso(record.get("updatedAt")),
    )
    for column in ("createdate", "lastmodifieddate", "hs_lastmodifieddate", "closedate"):
        if column in flat:
            flat[column] = _iso(flat[column])
    if flat.get("amount") not in (None, ""):
        flat["amount"] = float(flat["amount"])
    else:
        flat["amount"] = None
    return flat


def _land_hubspot(dataset: Path, out: _Writer) -> None:
    hubspot = dataset / "hubspot"
    for name in ("contacts", "companies", "deals"):
        for record in _read_jsonl(hubspot / f"{name}.jsonl"):
            out.add(("raw_hubspot", name), _hubspot_object(record))
    for owner in _read_jsonl(hubspot / "owners.jsonl"):
        out.add(("raw_hubspot", "owners"), _flatten(owner))
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for edge in _read_jsonl(hubspot / "associations.jsonl"):
        key = (edge["from_type"], str(edge["from_id"]), edge["to_type"])
        grouped.setdefault(key, []).append(edge)
    for (from_type, from_id, to_type), edges in grouped.items():
        parent = out.add(
            ("raw_hubspot", "associations"),
            {"from_object_type": from_type, "from_id": from_id, "to_object_type": to_type},
        )
        for idx, edge in enumerate(edges):
            out.add(
                ("raw_hubspot", "associations__edges"),
                {
                    "to_id": str(edge["to_id"]),
                    "type_id": edge.get("type_id"),
                    "category": edge.get("category"),
                    "label": edge.get("label"),
                },
                parent_id=parent,
                list_idx=idx,
            )


def load_raw_warehouse(dataset: Path, warehouse: Path) -> dict[str, int]:
    """Create every contract raw table in `warehouse` from `dataset`; returns rows per table."""
    scratch = Path(tempfile.mkdtemp(prefix="raw-fixture-"))
    try:
        out = _Writer(scratch)
        _land_lms(dataset, out)
        _land_history(dataset, out)
        _land_hubspot(dataset, out)
        with duckdb.connect(str(warehouse)) as con:
            counts = out.flush(con)
            counts.update(_land_native_jsonl(con, dataset / "lms"))
        return {f"{schema}.{table}": counts[f"{schema}.{table}"] for schema, table in RAW_TABLES}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def table_names() -> Iterable[str]:
    return [f"{schema}.{table}" for schema, table in RAW_TABLES]
