"""Warehouse tables in schema `reverse_etl`: sync_state, rejected_rows, sync_runs, schema_cache,
created_records.

DuckDB allows one writer process, so the runner holds a single connection and every write
here is one short statement (its own transaction). State advances per confirmed batch, so a
crash loses at most the batches in flight, which are re-sent idempotently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb

from lmsbridge_core.warehouse import quote_name, table_exists
from reverse_etl.plan import ConfirmedState, Rejection

DDL = """
create schema if not exists reverse_etl;
create table if not exists reverse_etl.sync_state (
    sync_name text not null,
    record_key text not null,
    hubspot_id text,
    row_hash text not null,
    confirmed_at timestamptz not null,
    properties_json text,
    primary key (sync_name, record_key)
);
create table if not exists reverse_etl.rejected_rows (
    sync_run_id text not null,
    sync_name text not null,
    record_key text,
    category text not null,
    message text,
    row_payload text,
    rejected_at timestamptz not null
);
create table if not exists reverse_etl.sync_runs (
    run_id text primary key,
    sync_name text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    dry_run boolean not null,
    planned integer,
    sent integer,
    succeeded integer,
    rejected integer,
    unchanged integer,
    calls integer,
    status_429 integer,
    duration_s double,
    status text not null,
    error text,
    pipeline_run_id text
);
-- The mart row's hash (reverse_etl.changed_rows) when HubSpot confirmed it or a plan found it
-- unchanged: a row with the same hash is not planned again.
alter table reverse_etl.sync_state add column if not exists source_hash text;
-- Rows the plan skipped (no match, no consent), with why: skipped again while unchanged.
create table if not exists reverse_etl.skipped_rows (
    sync_name text not null,
    record_key text not null,
    source_hash text not null,
    reason text not null,
    primary key (sync_name, record_key)
);
-- The mart and state a quiet plan (nothing to send) saw: equal next run, nothing to plan.
create table if not exists reverse_etl.plan_fingerprints (
    sync_name text primary key,
    mart_fingerprint text not null,
    state_fingerprint text not null,
    unchanged bigint not null,
    saved_at timestamptz not null
);
-- The dbt build the mart fingerprint was taken after (lmsbridge_core.build_record, salted
-- with the sync's configuration): while that build's record stands the mart is unchanged.
alter table reverse_etl.plan_fingerprints add column if not exists build_ref text;
-- Warehouses from before one run id grouped a run's syncs.
alter table reverse_etl.sync_runs add column if not exists pipeline_run_id text;
-- Records lmsbridge created (a contact upserted by email that HubSpot reported new): the
-- only contacts an `on_delete: archive` policy may archive.
create table if not exists reverse_etl.created_records (
    sync_name text not null,
    record_key text not null,
    hubspot_id text not null,
    created_at timestamptz not null,
    primary key (sync_name, record_key)
);
create table if not exists reverse_etl.schema_cache (
    sync_name text primary key,
    object_type text not null,
    fingerprint text not null,
    verified_at timestamptz not null
);
"""


def now() -> datetime:
    return datetime.now(UTC)


def connect(path: str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(path, read_only=read_only)
    # Timestamps come back as UTC-aware datetimes regardless of the host's zone.
    con.execute("set TimeZone = 'UTC'")
    return con


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(con, "reverse_etl", "sync_state")


def has_plan_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """sync_state with its source_hash column, and plan_fingerprints with its build_ref
    (set-based planning; an older warehouse gets them from `ensure_tables`). One query: a
    quiet scheduled plan costs little more than this."""
    found = con.execute(
        "select count(*) from duckdb_columns() where schema_name = 'reverse_etl' "
        "and ((table_name = 'sync_state' and column_name = 'source_hash') "
        "or (table_name = 'plan_fingerprints' and column_name = 'build_ref'))"
    ).fetchone()
    return bool(found and found[0] == 2)


def load_state(
    con: duckdb.DuckDBPyConnection, sync_name: str, keys: Iterable[str] | None = None
) -> dict[str, ConfirmedState]:
    """The confirmed state of a sync: all of it, or only of `keys` (the rows being planned)."""
    if not has_tables(con):
        return {}
    params: list[Any] = [sync_name]
    if keys is not None:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        # The keys bound as one JSON list: DuckDB decodes it in microseconds, and the state
        # is read by a semi-join on them, not whole.
        query = (
            "select record_key, hubspot_id, row_hash, properties_json "
            "from reverse_etl.sync_state where sync_name = ? "
            "and record_key in (select unnest(from_json(?, '[\"VARCHAR\"]')))"
        )
        params.append(json.dumps(wanted))
    else:
        query = (
            "select record_key, hubspot_id, row_hash, properties_json "
            "from reverse_etl.sync_state where sync_name = ?"
        )
    rows = con.execute(query, params).fetchall()
    return {
        key: ConfirmedState(hubspot_id, digest, json.loads(props) if props else {})
        for key, hubspot_id, digest, props in rows
    }


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    statement: str,
    params: list[Any],
    columns: list[str],
    rows: list[list[Any]],
    *,
    after: list[Any] | None = None,
) -> int:
    """Run `statement` once for a whole batch, `rows` bound as one JSON parameter after
    `params` (and before `after`): binding hundreds of scalar parameters (or Python lists)
    costs DuckDB ~1 ms per row, JSON decoding costs microseconds. The statement reads the
    rows as `r.<column>`."""
    if not rows:
        return 0
    spec = json.dumps([dict.fromkeys(columns, "VARCHAR")])
    payload = json.dumps([dict(zip(columns, row, strict=True)) for row in rows])
    con.execute(statement, [*params, payload, spec, *(after or [])])
    return len(rows)


def confirm(
    con: duckdb.DuckDBPyConnection,
    sync_name: str,
    rows: Iterable[tuple[str, str | None, str, Mapping[str, str | None]]],
    source_hashes: Mapping[str, str] | None = None,
) -> int:
    """Record (record_key, hubspot_id, row_hash, properties) HubSpot confirmed: one statement.
    `source_hashes` (record key -> mart row hash) lets an unchanged row skip the next plan."""
    hashes = source_hashes or {}
    batch = [
        [key, hubspot_id, digest, json.dumps(props, sort_keys=True), hashes.get(key)]
        for key, hubspot_id, digest, props in rows
    ]
    return insert_rows(
        con,
        "insert or replace into reverse_etl.sync_state "
        "(sync_name, record_key, hubspot_id, row_hash, confirmed_at, properties_json, "
        "source_hash) "
        "select ?, r.k, r.h, r.d, ?, r.p, r.s from (select unnest(from_json(?, ?)) as r)",
        [sync_name, now()],
        ["k", "h", "d", "p", "s"],
        batch,
    )


def record_created(
    con: duckdb.DuckDBPyConnection, sync_name: str, rows: Iterable[tuple[str, str]]
) -> int:
    """Remember (record_key, hubspot_id) pairs whose record this run created in HubSpot."""
    return insert_rows(
        con,
        "insert or replace into reverse_etl.created_records "
        "(sync_name, record_key, hubspot_id, created_at) "
        "select ?, r.k, r.h, ? from (select unnest(from_json(?, ?)) as r)",
        [sync_name, now()],
        ["k", "h"],
        [list(row) for row in rows],
    )


def created_keys(con: duckdb.DuckDBPyConnection, sync_name: str) -> set[str]:
    if not table_exists(con, "reverse_etl", "created_records"):
        return set()
    rows = con.execute(
        "select record_key from reverse_etl.created_records where sync_name = ?", [sync_name]
    ).fetchall()
    return {key for (key,) in rows}


def reject(
    con: duckdb.DuckDBPyConnection, run_id: str, sync_name: str, rows: Iterable[Rejection]
) -> int:
    batch = [
        [r.record_key, r.category, r.message, json.dumps(r.payload, sort_keys=True, default=str)]
        for r in rows
    ]
    return insert_rows(
        con,
        "insert into reverse_etl.rejected_rows "
        "(sync_run_id, sync_name, record_key, category, message, row_payload, rejected_at) "
        "select ?, ?, r.k, r.c, r.m, r.p, ? from (select unnest(from_json(?, ?)) as r)",
        [run_id, sync_name, now()],
        ["k", "c", "m", "p"],
        batch,
    )


def cached_fingerprint(con: duckdb.DuckDBPyConnection, sync_name: str) -> str | None:
    if not has_tables(con):
        return None
    row = con.execute(
        "select fingerprint from reverse_etl.schema_cache where sync_name = ?", [sync_name]
    ).fetchone()
    return row[0] if row else None


def cache_fingerprint(
    con: duckdb.DuckDBPyConnection, sync_name: str, object_type: str, fingerprint: str
) -> None:
    con.execute(
        "insert or replace into reverse_etl.schema_cache values (?, ?, ?, ?)",
        [sync_name, object_type, fingerprint, now()],
    )


def forget_fingerprint(con: duckdb.DuckDBPyConnection, sync_name: str) -> None:
    con.execute("delete from reverse_etl.schema_cache where sync_name = ?", [sync_name])


def record_run(con: duckdb.DuckDBPyConnection, row: Mapping[str, Any]) -> None:
    columns = list(row)
    con.execute(
        f"insert or replace into reverse_etl.sync_runs ({', '.join(columns)}) "
        f"values ({', '.join('?' for _ in columns)})",
        [row[c] for c in columns],
    )


def quoted_table(source: str) -> str:
    """`schema.table` as SQL: validated as such by the config model, quoted part by part anyway."""
    return ".".join(quote_name(part) for part in source.split("."))


def fetch_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def read_mart(
    con: duckdb.DuckDBPyConnection, source: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """All rows of a mart as dicts (`--full`, `--repair` and the timeline read them all)."""
    cursor = con.execute(f"select * from {quoted_table(source)}")
    columns = [d[0] for d in cursor.description]
    return columns, fetch_dicts(cursor)


def current_values(
    con: duckdb.DuckDBPyConnection, object_type: str, properties: list[str]
) -> dict[str, dict[str, str | None]]:
    """What the last extract saw in HubSpot (raw_hubspot), for forward-only checks; empty
    when the extract has not run or the column is absent."""
    if not properties:
        return {}
    present = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw_hubspot' and table_name = ?",
            [object_type],
        ).fetchall()
    }
    wanted = [p for p in properties if p in present]
    if "id" not in present or not wanted:
        return {}
    cols = ", ".join(f'"{p}"' for p in wanted)
    rows = con.execute(f'select id, {cols} from raw_hubspot."{object_type}"').fetchall()
    return {
        str(r[0]): {p: (None if v is None else str(v)) for p, v in zip(wanted, r[1:], strict=True)}
        for r in rows
    }
