"""The record of the last dbt build that succeeded: `lmsbridge_meta.build_inputs`, one row.

flows/build_inputs.py writes it after a build with the fingerprint of the build's inputs.
Every dbt invocation drops it first (the project's on-run-start hook, macro
`forget_build_inputs`), and so does an erase. So while it stands, nothing has rewritten the
marts since that build: a scheduled run may reuse the build, and the reverse ETL may trust a
mart fingerprint it took after the same build without reading the mart again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from lmsbridge_core.warehouse import table_exists

SCHEMA = "lmsbridge_meta"
TABLE = f"{SCHEMA}.build_inputs"


@dataclass(frozen=True)
class BuildRecord:
    digest: str
    as_of_pinned: bool
    built_at: float  # epoch seconds

    @property
    def ref(self) -> str:
        """Names this build: another build, even of the same inputs, has another ref."""
        return f"{self.digest}@{self.built_at!r}"

    @property
    def built_at_text(self) -> str:
        return datetime.fromtimestamp(self.built_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def read(con: duckdb.DuckDBPyConnection) -> BuildRecord | None:
    if not table_exists(con, SCHEMA, "build_inputs"):
        return None
    row = con.execute(f"select digest, as_of_pinned, built_at from {TABLE}").fetchone()
    return BuildRecord(str(row[0]), bool(row[1]), float(row[2])) if row else None


def write(con: duckdb.DuckDBPyConnection, record: BuildRecord) -> None:
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"create or replace table {TABLE} "
        "(digest varchar not null, as_of_pinned boolean not null, built_at double not null)"
    )
    con.execute(
        f"insert into {TABLE} values (?, ?, ?)",
        [record.digest, record.as_of_pinned, record.built_at],
    )


def forget(con: duckdb.DuckDBPyConnection) -> None:
    """For whatever rewrites marts outside dbt: the next run builds, the next plan reads."""
    con.execute(f"drop table if exists {TABLE}")
