"""Publish a read-only snapshot of the warehouse for BI tools (atomic file swap).

The snapshot is curated: the marts and the reverse ETL's run history, every object a table,
with the dbt descriptions as table and column comments. Raw, staging and intermediate data,
and the two-way sync's unpivoted inputs, join only when asked for (`LMSBRIDGE_PUBLISH_RAW`);
dlt's bookkeeping never does. The pipeline publishes once per run, after its syncs.

When the last snapshot was published after the same dbt build (its record,
lmsbridge_core.build_record, still stands: no dbt run and no erase since, so the marts are
unchanged), a publish copies the snapshot file and refreshes only the run history in it:
what a run whose build was reused costs, instead of copying every mart again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from lmsbridge_core import build_record
from lmsbridge_core.warehouse import quote_name, table_exists

log = logging.getLogger("lmsbridge.publish")

SNAPSHOT_DB = "lmsbridge_snapshot"
MARTS_SCHEMA = "marts"
# What `lmsbridge status` and BI dashboards read; the sync's own state stays private.
# Run history, and the last check of each field mapping (`lmsbridge status` reads the
# snapshot while a run holds the warehouse).
RUN_HISTORY = frozenset(
    {
        ("reverse_etl", "sync_runs"),
        ("reverse_etl", "rejected_rows"),
        ("reverse_etl", "field_mapping_checks"),
    }
)
# Only with LMSBRIDGE_PUBLISH_RAW: dbt's layers below the marts and dlt's raw_* datasets.
RAW_SCHEMAS = frozenset({"staging", "intermediate"})
# Also only with LMSBRIDGE_PUBLISH_RAW: the marts the two-way sync reads, one row per learner
# (or contact) and field. They are views over staging, so copying them recomputes them from
# the raw tables: two thirds of what a publish cost, for rows no dashboard reads.
SYNC_INPUT_VIEWS = frozenset({"rev_etl__learner_fields", "rev_etl__contact_properties"})
RAW_PREFIX = "raw_"
# dlt keeps load/state/version bookkeeping in `_dlt_*` tables and merges through
# `<dataset>_staging` schemas: neither means anything to a BI user.
DLT_TABLE_PREFIX = "_dlt_"
DLT_STAGING_SUFFIX = "_staging"


# In the warehouse: the build the current snapshot was published after, and where to.
PUBLISHED_BUILD = f"{build_record.SCHEMA}.published_build"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    bytes: int
    tables: int
    schemas: tuple[str, ...] = ()
    # True when the marts were those of the last snapshot and only the run history was copied.
    history_only: bool = False


@dataclass(frozen=True)
class _Relation:
    schema: str
    name: str
    comment: str | None


def is_published(schema: str, name: str, *, include_raw: bool = False) -> bool:
    """Whether `schema.name` of the warehouse belongs in the BI snapshot."""
    if name.startswith(DLT_TABLE_PREFIX):
        return False
    if schema == MARTS_SCHEMA and name in SYNC_INPUT_VIEWS:
        return include_raw
    if schema == MARTS_SCHEMA or (schema, name) in RUN_HISTORY:
        return True
    if not include_raw or schema.endswith(DLT_STAGING_SUFFIX):
        return False
    return schema in RAW_SCHEMAS or schema.startswith(RAW_PREFIX)


def publish_snapshot(
    warehouse_path: Path, published_path: Path, *, include_raw: bool = False
) -> PublishResult:
    """Copy the published part of the warehouse into a new file and swap it onto
    `published_path` in one rename.

    The copy goes through DuckDB in one read transaction rather than the file system, so
    the snapshot is consistent (every table from the same moment) even if this process
    still holds the warehouse open with un-checkpointed WAL. A BI tool holding the old
    snapshot open keeps reading the old inode; the rename never waits for it.
    """
    warehouse_path = warehouse_path.resolve()
    published_path = published_path.resolve()
    if not warehouse_path.exists():
        raise FileNotFoundError(f"warehouse {warehouse_path} does not exist: nothing to publish")
    published_path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(published_path)
    # Same directory as the target, so os.replace is a rename on one file system.
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{published_path.stem}-", suffix=".tmp.duckdb", dir=published_path.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB must create the file itself; an empty file is not a database.
    try:
        build, published_after = _bookkeeping(warehouse_path)
        history_only = (
            build is not None
            and not include_raw  # raw copies carry dlt's columns, which move without a build
            and published_path.exists()
            and published_after == (build, str(published_path))
        )
    except duckdb.Error as exc:  # bookkeeping: without it, the whole snapshot is copied
        log.warning("publishing the whole snapshot: %s", exc)
        build, history_only = None, False
    try:
        if history_only:
            shutil.copyfile(published_path, tmp)
            relations = _copy_into(warehouse_path, tmp, lambda r: (r.schema, r.name) in RUN_HISTORY)
        else:
            relations = _copy_into(
                warehouse_path,
                tmp,
                lambda r: is_published(r.schema, r.name, include_raw=include_raw),
            )
        os.replace(tmp, published_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    try:
        _remember_published(warehouse_path, None if include_raw else build, published_path)
    except duckdb.Error as exc:  # the snapshot is in place; the next publish copies it all
        log.warning("published build not recorded: %s", exc)
    return PublishResult(
        path=published_path,
        bytes=published_path.stat().st_size,
        tables=len(relations),
        schemas=tuple(sorted({r.schema for r in relations})),
        history_only=history_only,
    )


def _bookkeeping(warehouse: Path) -> tuple[str | None, tuple[str, str] | None]:
    """The current build's ref, and (build ref, snapshot path) of the last publish."""
    with duckdb.connect(str(warehouse)) as con:
        record = build_record.read(con)
        published = None
        if table_exists(con, build_record.SCHEMA, "published_build"):
            row = con.execute(f"select build_ref, path from {PUBLISHED_BUILD}").fetchone()
            published = (str(row[0]), str(row[1])) if row else None
    return (record.ref if record is not None else None), published


def _remember_published(warehouse: Path, build: str | None, published_path: Path) -> None:
    """After a swap: which build the snapshot's marts came from (None: do not rely on it)."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create schema if not exists {build_record.SCHEMA}")
        con.execute(
            f"create or replace table {PUBLISHED_BUILD} (build_ref varchar not null, path varchar)"
        )
        if build is not None:
            con.execute(
                f"insert into {PUBLISHED_BUILD} values (?, ?)", [build, str(published_path)]
            )


def remove_leftovers(published_path: Path) -> list[Path]:
    """Delete temp copies (and their WAL) left by a publish that was killed mid-copy.

    Publishing runs under the run lock, so no other publish of this snapshot is in
    progress and every temp file matching ours is an orphan.
    """
    removed = []
    for pattern in (
        f".{published_path.stem}-*.tmp.duckdb",
        f".{published_path.stem}-*.tmp.duckdb.wal",
    ):
        for leftover in published_path.parent.glob(pattern):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


def _copy_into(source: Path, target: Path, chosen: Callable[[_Relation], bool]) -> list[_Relation]:
    """Copy the warehouse relations `chosen` accepts into the DuckDB file `target` (a new file,
    or a copy of the last snapshot whose tables of the same name they replace), in one read
    transaction. Returns every relation `target` then holds."""
    # Connecting to the source by path reuses this process's open instance if dbt or dlt
    # still hold one, which avoids "database is locked" against ourselves.
    with duckdb.connect(str(source)) as con:
        source_db = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
        con.execute(f"attach '{_sql_str(target)}' as {SNAPSHOT_DB}")
        try:
            # One transaction: every table is read as of the same moment.
            con.execute("begin transaction")
            try:
                relations = [r for r in _relations(con, source_db) if chosen(r)]
                for schema in sorted({r.schema for r in relations}):
                    con.execute(f"create schema if not exists {SNAPSHOT_DB}.{quote_name(schema)}")
                for relation in relations:
                    _copy_relation(con, source_db, relation)
                con.execute("commit")
            except BaseException:
                # The copy's own error is the one to report, not a failed rollback.
                with contextlib.suppress(duckdb.Error):
                    con.execute("rollback")
                raise
            con.execute(f"checkpoint {SNAPSHOT_DB}")
            held = _relations(con, SNAPSHOT_DB)
        finally:
            con.execute(f"detach {SNAPSHOT_DB}")
    return held


def _relations(con: duckdb.DuckDBPyConnection, database: str) -> list[_Relation]:
    rows = con.execute(
        """
        select schema_name, table_name, comment from duckdb_tables() where database_name = $db
        union all
        select schema_name, view_name, comment from duckdb_views()
        where database_name = $db and not internal
        order by 1, 2
        """,
        {"db": database},
    ).fetchall()
    return [_Relation(schema, name, comment) for schema, name, comment in rows]


def _copy_relation(con: duckdb.DuckDBPyConnection, source_db: str, relation: _Relation) -> None:
    """One table (a view becomes a table: dbt compiles views with the warehouse's catalog
    name and the layers they read are not published), with its comments, which
    `create table as` does not carry."""
    source = f"{quote_name(source_db)}.{quote_name(relation.schema)}.{quote_name(relation.name)}"
    target = f"{SNAPSHOT_DB}.{quote_name(relation.schema)}.{quote_name(relation.name)}"
    con.execute(f"create or replace table {target} as select * from {source}")
    if relation.comment:
        con.execute(f"comment on table {target} is '{_sql_str(relation.comment)}'")
    columns = con.execute(
        "select column_name, comment from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? and comment is not null",
        [source_db, relation.schema, relation.name],
    ).fetchall()
    for column, comment in columns:
        con.execute(f"comment on column {target}.{quote_name(column)} is '{_sql_str(comment)}'")


def _sql_str(value: object) -> str:
    return str(value).replace("'", "''")
