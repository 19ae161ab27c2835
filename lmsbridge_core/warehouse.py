"""Small questions asked of the DuckDB warehouse by more than one package."""

from __future__ import annotations

import duckdb


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` is there yet: an early run, or a fresh warehouse, may lack it."""
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(row and row[0])


def quote_name(name: str) -> str:
    """An SQL identifier, double-quoted (a quote inside is doubled)."""
    return '"' + name.replace('"', '""') + '"'
