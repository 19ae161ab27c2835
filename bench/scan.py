"""The unit every cost ratio in the benchmarks is expressed in: CPU seconds of one DuckDB scan
that reads every column of every raw table once (issue "Cost that follows change").

CPU seconds, not wall: DuckDB runs on every core, and a ratio of CPU time holds on a busy
machine where wall time does not.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

RAW_SCHEMAS = ("raw_lms", "raw_hubspot", "raw_lms_files")


def tables(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> list[tuple[str, str]]:
    marks = ",".join("?" * len(schemas))
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({marks}) and table_type = 'BASE TABLE' order by all",
        list(schemas),
    ).fetchall()
    return [(str(s), str(t)) for s, t in rows]


def scan_cpu_s(warehouse: Path, schemas: tuple[str, ...] = RAW_SCHEMAS, repeat: int = 3) -> float:
    """Median CPU seconds (this process, all threads) to hash every row of every table."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        found = tables(con, schemas)
        if not found:
            raise SystemExit(f"no tables in {', '.join(schemas)} of {warehouse}")
        samples = []
        for _ in range(repeat):
            started = time.process_time()
            for schema, table in found:
                con.execute(f'select sum(hash(t)) from "{schema}"."{table}" as t').fetchone()
            samples.append(time.process_time() - started)
        return sorted(samples)[len(samples) // 2]
    finally:
        con.close()


if __name__ == "__main__":
    import sys

    print(f"{scan_cpu_s(Path(sys.argv[1])):.3f} CPU-s")
