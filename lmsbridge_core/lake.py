"""The raw tables as open files, and built tables back into the warehouse file.

With LMSBRIDGE_ENGINE=spark, dbt builds on Spark, which cannot read a DuckDB file: after each
extract the raw schemas are written as Parquet under `<spark dir>/lake/<schema>/<table>/`
(one folder per table, as a Spark or Hive table location is), and what Spark built for the
reverse ETL and BI comes back from Parquet into the warehouse file. DuckDB stays the landing
store (dlt's merge keys and incremental state live there) and the reverse ETL's store.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import duckdb

from lmsbridge_core.warehouse import quote_name

# what dbt reads; dlt's *_staging schemas hold merge scratch copies, not data
RAW_SCHEMAS = ("raw_hubspot", "raw_lms", "raw_lms_files")


def export_raw(warehouse: Path, lake: Path) -> dict[str, int]:
    """Write every raw table of `warehouse` to `<lake>/<schema>/<table>/data.parquet`, replacing
    what an earlier run wrote (a table dlt dropped goes too); rows per schema.table."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Parquet stores instants in UTC; the zone only affects how DuckDB renders them.
        con.execute("set TimeZone = 'UTC'")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables()"
            " where schema_name in ? and not starts_with(table_name, '_dlt_') order by 1, 2",
            [list(RAW_SCHEMAS)],
        ).fetchall()
        fresh = lake.with_name(lake.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        for schema, table in tables:
            target = fresh / schema / table / "data.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            source = f"{quote_name(schema)}.{quote_name(table)}"
            con.execute(f"copy {source} to '{target}' (format parquet)")
            counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {source}").fetchone()[
                0
            ]  # type: ignore[index]
    # swap whole: Spark never sees half of one run's files and half of another's
    old = lake.with_name(lake.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if lake.exists():
        lake.rename(old)
    fresh.mkdir(parents=True, exist_ok=True)
    fresh.rename(lake)
    shutil.rmtree(old, ignore_errors=True)
    return counts


def import_built(warehouse: Path, exported: Path, schemas: Iterable[str]) -> dict[str, int]:
    """Make each schema given hold exactly `<exported>/<schema>/<table>/*.parquet` as tables,
    in one transaction (a reader sees the old marts or the new ones); rows per schema.table."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("begin")
        for schema in schemas:
            folder = exported / schema
            built = (
                sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.exists() else []
            )
            con.execute(f"create schema if not exists {quote_name(schema)}")
            # a view (DuckDB's build) or a table (an earlier import) of the same name goes
            existing = dict(
                con.execute(
                    "select table_name, table_type from information_schema.tables"
                    " where table_schema = ?",
                    [schema],
                ).fetchall()
            )
            for name, kind in sorted(existing.items()):
                relation = f"{quote_name(schema)}.{quote_name(name)}"
                con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} {relation}")
            for name in built:
                relation = f"{quote_name(schema)}.{quote_name(name)}"
                con.execute(
                    f"create or replace table {relation} as"
                    f" select * from read_parquet('{folder / name}/*.parquet')"
                )
                counts[f"{schema}.{name}"] = con.execute(
                    f"select count(*) from {relation}"
                ).fetchone()[0]  # type: ignore[index]
        con.execute("commit")
    return counts
