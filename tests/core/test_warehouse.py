"""lmsbridge_core.warehouse: the one table-existence check shared by flows and reverse_etl."""

from __future__ import annotations

import duckdb

from lmsbridge_core.warehouse import table_exists


def test_table_exists_sees_only_the_named_schema_and_table() -> None:
    with duckdb.connect(":memory:") as con:
        assert not table_exists(con, "reverse_etl", "sync_state")
        con.execute("create schema reverse_etl")
        con.execute("create table reverse_etl.sync_state (k varchar)")
        con.execute("create table main.sync_runs (k varchar)")
        assert table_exists(con, "reverse_etl", "sync_state")
        assert not table_exists(con, "reverse_etl", "sync_runs")
        assert table_exists(con, "main", "sync_runs")
