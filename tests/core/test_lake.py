"""lmsbridge_core.lake: raw tables out to the Parquet lake, built marts back in (Spark engine)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from lmsbridge_core.dbt_invocation import DBT_SPARK_CLI, DbtInvocation
from lmsbridge_core.lake import export_raw, import_built


def _raw_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        for schema in ("raw_lms", "raw_hubspot", "raw_lms_staging", "marts"):
            con.execute(f"create schema {schema}")
        con.execute("create table raw_lms.users as select range as id from range(3)")
        con.execute("create table raw_lms._dlt_loads as select 1 as load_id")
        con.execute("create table raw_hubspot.contacts as select 'a' as id")
        con.execute("create table raw_lms_staging.users as select 9 as id")
        con.execute("create table marts.old as select 1 as x")
    return path


def test_export_writes_one_folder_per_raw_table_and_replaces_the_last_lake(tmp_path: Path) -> None:
    warehouse = _raw_warehouse(tmp_path / "w.duckdb")
    lake = tmp_path / "lake"
    (lake / "raw_lms" / "dropped_by_dlt").mkdir(parents=True)
    counts = export_raw(warehouse, lake)
    # dlt's bookkeeping tables and merge scratch schemas are not data dbt reads
    assert counts == {"raw_hubspot.contacts": 1, "raw_lms.users": 3}
    assert sorted(str(p.relative_to(lake)) for p in lake.rglob("*.parquet")) == [
        "raw_hubspot/contacts/data.parquet",
        "raw_lms/users/data.parquet",
    ]
    assert not (lake / "raw_lms" / "dropped_by_dlt").exists()
    assert duckdb.sql(f"select sum(id) from '{lake}/raw_lms/users/*.parquet'").fetchone() == (3,)


def test_import_makes_the_schema_hold_exactly_what_was_built(tmp_path: Path) -> None:
    warehouse = _raw_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create view marts.dim as select 0 as x")  # DuckDB's build made it a view
    built = tmp_path / "built"
    for name, rows in (("dim", 2), ("fct", 5)):
        (built / "marts" / name).mkdir(parents=True)
        duckdb.sql(
            f"copy (select range as x, timestamptz '2026-01-01 00:00:00+00' as at"
            f" from range({rows})) to '{built}/marts/{name}/part-0.parquet' (format parquet)"
        )
    assert import_built(warehouse, built, ["marts"]) == {"marts.dim": 2, "marts.fct": 5}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select table_name, table_type from information_schema.tables"
            " where table_schema = 'marts' order by 1"
        ).fetchall()
        # the stale `old` is gone; raw tables are untouched
        assert tables == [("dim", "BASE TABLE"), ("fct", "BASE TABLE")]
        assert con.execute("select count(*) from raw_lms.users").fetchone() == (3,)


def test_spark_target_runs_dbt_with_the_session_python_models(tmp_path: Path) -> None:
    dbt = DbtInvocation(
        warehouse=tmp_path / "w.duckdb",
        work_dir=tmp_path,
        target="spark",
        target_env=(("LMSBRIDGE_SPARK_DIR", str(tmp_path / "spark")),),
    )
    command = dbt.command(["build"])
    assert command[: len(DBT_SPARK_CLI)] == list(DBT_SPARK_CLI)
    assert command[-2:] == ["--target", "spark"]
    assert dbt.child_env()["LMSBRIDGE_SPARK_DIR"] == str(tmp_path / "spark")
    duck = DbtInvocation(warehouse=tmp_path / "w.duckdb", work_dir=tmp_path)
    assert "--target" not in duck.command(["build"])
