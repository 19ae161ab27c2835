"""bench.spark.compare: the DuckDB-vs-Spark diff the Spark spike (issue 16) relies on, on
hand-made relations (no Spark needed)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from bench.spark.compare import compare


def _warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema marts")
        con.execute(
            "create table marts.credits as select * from (values"
            " ('d1', 0.1::double + 0.2::double, timestamptz '2026-06-01 10:00:00+00'),"
            " ('d2', 0.7, timestamptz '2026-06-01 11:00:00+00')) as t(deal_id, credit, touched_at)"
        )
    return path


def _spark_export(root: Path, rows_sql: str) -> Path:
    """What lmsbridge_core.spark_engine.export_built leaves: <schema>/<table>/*.parquet (Spark writes naive UTC times)."""
    (root / "marts" / "credits").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            f"copy ({rows_sql}) to '{root / 'marts' / 'credits' / 'part-0.parquet'}'"
            " (format parquet)"
        )
    return root


def test_rounded_doubles_and_utc_instants_compare_equal(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    spark = _spark_export(
        tmp_path / "spark",
        "select * from (values ('d2', 0.7, timestamp '2026-06-01 11:00:00'),"
        " ('d1', 0.3, timestamp '2026-06-01 10:00:00')) as t(deal_id, credit, touched_at)",
    )
    [diff] = compare(warehouse, spark)
    assert (diff.relation, diff.same) == ("marts.credits", True)


def test_a_changed_value_shows_on_both_sides(tmp_path: Path) -> None:
    warehouse = _warehouse(tmp_path / "w.duckdb")
    spark = _spark_export(
        tmp_path / "spark",
        "select * from (values ('d2', 0.7, timestamp '2026-06-01 11:00:00'),"
        " ('d1', 0.31, timestamp '2026-06-01 10:00:00')) as t(deal_id, credit, touched_at)",
    )
    [diff] = compare(warehouse, spark)
    assert (diff.same, diff.only_duckdb, diff.only_spark) == (False, 1, 1)


def test_doubles_either_side_of_a_rounding_boundary_agree_and_a_real_change_does_not(
    tmp_path: Path,
) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.credits as select * from (values ('d1', 0.12345649999999),"
            " ('d1', 0.5), ('d2', 12345.678)) as t(deal_id, credit)"
        )
    close = _credits(
        tmp_path / "close", "('d1', 0.5), ('d1', 0.12345650000001), ('d2', 12345.6780001)"
    )
    [same] = compare(tmp_path / "w.duckdb", close)
    assert same.same, same
    changed = _credits(tmp_path / "changed", "('d1', 0.5), ('d1', 0.1236), ('d2', 12345.678)")
    [diff] = compare(tmp_path / "w.duckdb", changed)
    assert (diff.same, diff.only_duckdb, diff.only_spark) == (False, 1, 1)


def _credits(root: Path, values: str) -> Path:
    (root / "marts" / "credits").mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * from (values {values}) as t(deal_id, credit))"
            f" to '{root / 'marts' / 'credits' / 'part-0.parquet'}' (format parquet)"
        )
    return root
