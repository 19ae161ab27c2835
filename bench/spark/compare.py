"""Diff a DuckDB build against Spark's (lmsbridge_core.spark_engine.export_built), relation
by relation: row counts and rows present on one side only. Doubles are rounded (time-decay
credits differ in the last bits between engines); timestamps are compared as UTC instants.

    uv run --frozen python -m bench.spark.compare WAREHOUSE.duckdb SPARK_DIR/built
"""

from __future__ import annotations

import argparse
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import duckdb

# decimals kept of doubles: decay credits times deal amounts (~1e4) differ near 1e-9 between
# engines (exp() and summation order)
FLOAT_DIGITS = 6


@dataclass(frozen=True)
class Diff:
    relation: str
    duckdb_rows: int
    spark_rows: int
    only_duckdb: int
    only_spark: int

    @property
    def same(self) -> bool:
        return self.duckdb_rows == self.spark_rows and not self.only_duckdb + self.only_spark


def _select(con: duckdb.DuckDBPyConnection, source: str, exclude: Collection[str] = ()) -> str:
    """A select of `source` with comparable values: rounded doubles, UTC timestamps."""
    columns = con.execute(f"describe select * from {source}").fetchall()
    parts = []
    for name, data_type, *_ in columns:
        if name in exclude:
            continue
        column = f'"{name}"'
        if data_type in ("DOUBLE", "FLOAT") or data_type.startswith("DECIMAL"):
            parts.append(f"round({column}::double, {FLOAT_DIGITS}) as {column}")
        elif data_type.startswith("TIMESTAMP"):
            parts.append(f"{column}::timestamptz as {column}")
        else:
            parts.append(column)
    return f"select {', '.join(sorted(parts))} from {source}"


def compare(
    warehouse: Path, spark_dir: Path, *, read_only: bool = True, exclude: Collection[str] = ()
) -> list[Diff]:
    """`exclude`: columns left out (when rows were read, say, if the two builds ran on data
    landed at different times). read_only=False: a process whose dbt run still holds the file
    (DuckDB refuses a second connection with another configuration)."""
    diffs = []
    with duckdb.connect(str(warehouse), read_only=read_only) as con:
        con.execute("set TimeZone = 'UTC'")
        for schema_dir in sorted(p for p in spark_dir.iterdir() if p.is_dir()):
            for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
                ours = f'"{schema_dir.name}"."{table_dir.name}"'
                theirs = f"read_parquet('{table_dir}/*.parquet')"
                left, right = _select(con, ours, exclude), _select(con, theirs, exclude)
                count = "select count(*) from ({}) as rows"
                diffs.append(
                    Diff(
                        f"{schema_dir.name}.{table_dir.name}",
                        con.execute(count.format(ours.join(["select * from ", ""]))).fetchone()[0],
                        con.execute(count.format(f"select * from {theirs}")).fetchone()[0],
                        con.execute(count.format(f"{left} except all {right}")).fetchone()[0],
                        con.execute(count.format(f"{right} except all {left}")).fetchone()[0],
                    )
                )
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("spark_dir", type=Path)
    args = parser.parse_args()
    diffs = compare(args.warehouse, args.spark_dir)
    for diff in diffs:
        mark = "same" if diff.same else "DIFF"
        print(
            f"{mark} {diff.relation}: rows {diff.duckdb_rows}/{diff.spark_rows},"
            f" only duckdb {diff.only_duckdb}, only spark {diff.only_spark}"
        )
    print(f"{sum(d.same for d in diffs)}/{len(diffs)} relations identical")


if __name__ == "__main__":
    main()
