"""Export a landed warehouse's raw schemas to Parquet, one directory per schema.

Stand-in for dlt's filesystem destination (issue 16 item 1): dlt would write these files
itself; here DuckDB copies what the duckdb destination already landed.

    uv run --frozen python -m bench.spark.export_raw WAREHOUSE.duckdb OUT_DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

# dlt's *_staging schemas hold merge scratch copies, not data dbt reads.
RAW_SCHEMAS = ("raw_hubspot", "raw_lms", "raw_lms_files")


def export_raw(warehouse: Path, out: Path) -> dict[str, int]:
    """Write <out>/<schema>/<table>/data.parquet for every raw table (a directory per table,
    as Spark table locations are); rows per schema.table."""
    counts: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        # Parquet stores instants in UTC; the zone only matters for how DuckDB renders them.
        con.execute("set TimeZone = 'UTC'")
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ? order by 1, 2",
            [list(RAW_SCHEMAS)],
        ).fetchall()
        for schema, table in tables:
            target = out / schema / table / "data.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f'copy "{schema}"."{table}" to \'{target}\' (format parquet)')
            counts[f"{schema}.{table}"] = con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    counts = export_raw(args.warehouse, args.out)
    print(f"{len(counts)} tables, {sum(counts.values())} rows -> {args.out}")


if __name__ == "__main__":
    main()
