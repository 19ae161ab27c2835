"""Publish a read-only snapshot of the warehouse for BI tools (atomic file swap)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class PublishResult:
    path: Path
    bytes: int
    tables: int


def publish_snapshot(warehouse_path: Path, published_path: Path) -> PublishResult:
    """Copy the warehouse into a new file and swap it onto `published_path` in one rename.

    The copy goes through DuckDB (`COPY FROM DATABASE`) rather than the file system so the
    snapshot is consistent even if this process still holds the warehouse open with
    un-checkpointed WAL. A BI tool holding the old snapshot open keeps reading the old inode;
    the rename never waits for it.
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
        tables = _copy_database(warehouse_path, tmp)
        os.replace(tmp, published_path)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return PublishResult(path=published_path, bytes=published_path.stat().st_size, tables=tables)


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


def _copy_database(source: Path, target: Path) -> int:
    # Connecting to the source by path reuses this process's open instance if dbt or dlt
    # still hold one, which avoids "database is locked" against ourselves.
    with duckdb.connect(str(source)) as con:
        source_db = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
        con.execute(f"attach '{_sql_str(target)}' as lmsbridge_snapshot")
        try:
            con.execute(f'copy from database "{source_db}" to lmsbridge_snapshot')
            count = con.execute(
                "select count(*) from duckdb_tables() where database_name = 'lmsbridge_snapshot'"
            ).fetchone()[0]  # type: ignore[index]
            con.execute("checkpoint lmsbridge_snapshot")
        finally:
            con.execute("detach lmsbridge_snapshot")
    return int(count)


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")
