"""Diff a DuckDB build against Spark's (lmsbridge_core.spark_engine.export_built), relation
by relation: row counts and rows present on one side only. Doubles agree within a relative
tolerance (time-decay credits differ in the last bits between engines); timestamps are
compared as UTC instants.

    uv run --frozen python -m bench.spark.compare WAREHOUSE.duckdb SPARK_DIR/built
"""

from __future__ import annotations

import argparse
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import duckdb

# doubles agree when |a - b| <= RELATIVE_TOLERANCE * max(1, |a|): time-decay credits times deal
# amounts (~1e4) differ near 1e-9 between engines (exp() and summation order). Rounding both
# sides to fixed decimals instead splits a value that straddles a rounding boundary, which at
# 100k learners one credit in fct_deal_attribution did.
RELATIVE_TOLERANCE = 1e-6


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


def _columns(
    con: duckdb.DuckDBPyConnection, source: str, exclude: Collection[str]
) -> dict[str, tuple[str, bool]]:
    """name -> (comparable expression, is a float): UTC instants, doubles as doubles."""
    columns = {}
    for name, data_type, *_ in con.execute(f"describe select * from {source}").fetchall():
        if name in exclude:
            continue
        column = f'"{name}"'
        if data_type in ("DOUBLE", "FLOAT") or data_type.startswith("DECIMAL"):
            columns[name] = (f"{column}::double", True)
        elif data_type.startswith("TIMESTAMP"):
            columns[name] = (f"{column}::timestamptz", False)
        else:
            columns[name] = (column, False)
    return columns


def _count(con: duckdb.DuckDBPyConnection, source: str) -> int:
    return con.execute(f"select count(*) from {source}").fetchone()[0]  # type: ignore[index]


def _one_side_only(
    con: duckdb.DuckDBPyConnection, ours: str, theirs: str, exclude: Collection[str]
) -> tuple[int, int]:
    """Rows of each side with no equal row on the other: exact columns equal, floats within
    the tolerance. Rows with the same exact columns pair up in order of their floats."""
    left, right = _columns(con, ours, exclude), _columns(con, theirs, exclude)
    if left.keys() != right.keys():
        return _count(con, ours), _count(con, theirs)
    exact = sorted(name for name, (_, is_float) in left.items() if not is_float)
    floats = sorted(name for name, (_, is_float) in left.items() if is_float)

    def quoted(names: list[str]) -> str:
        return ", ".join(f'"{name}"' for name in names)

    clauses = []
    if exact:
        clauses.append(f"partition by {quoted(exact)}")
    if floats:
        clauses.append(f"order by {quoted(floats)}")
    window = " ".join(clauses)

    def side(source: str, columns: dict[str, tuple[str, bool]]) -> str:
        values = ", ".join(f'{expr} as "{name}"' for name, (expr, _) in sorted(columns.items()))
        return f"select {values}, row_number() over ({window}) as _rn from {source}"

    keys = [f'd."{c}" is not distinct from s."{c}"' for c in exact] + ["d._rn = s._rn"]
    differs = (
        " or ".join(
            f'not (d."{c}" is not distinct from s."{c}"'
            f' or abs(d."{c}" - s."{c}") <= {RELATIVE_TOLERANCE} * greatest(1, abs(d."{c}")))'
            for c in floats
        )
        or "false"
    )
    only_ours, only_theirs = con.execute(
        f"with d as ({side(ours, left)}), s as ({side(theirs, right)}),"
        f" pairs as (select d._rn as d_rn, s._rn as s_rn, ({differs}) as differs"
        f" from d full join s on {' and '.join(keys)})"
        " select count(*) filter (where s_rn is null or differs),"
        " count(*) filter (where d_rn is null or differs) from pairs"
    ).fetchone()  # type: ignore[misc]
    return only_ours, only_theirs


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
                only_ours, only_theirs = _one_side_only(con, ours, theirs, exclude)
                diffs.append(
                    Diff(
                        f"{schema_dir.name}.{table_dir.name}",
                        _count(con, ours),
                        _count(con, theirs),
                        only_ours,
                        only_theirs,
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
