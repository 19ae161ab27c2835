"""Shared helpers for the extract tests (settings for a sandbox, warehouse queries, call counts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess

FAST = 10_000  # requests per window: effectively no server-side limit
FAST_RATE = (FAST, 10.0)  # the matching client-side pace


def settings_for(sb: SandboxProcess, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        key.removeprefix("LMSBRIDGE_").lower(): value for key, value in sb.env().items()
    }
    values.update(warehouse_path=tmp_path / "warehouse" / "lmsbridge.duckdb")
    values.update(overrides)
    return Settings(_env_file=None, **values)


def manifest_counts(data: Path) -> dict[str, int]:
    return dict(json.loads((data / "manifest.json").read_text())["counts"])


def assert_landed_every_record(
    settings: Settings, sb: SandboxProcess, schema: str, table_files: dict[str, str]
) -> None:
    """Each raw table holds as many rows as the emulator's manifest says were generated."""
    expected = manifest_counts(sb.data_dir)
    for table, file in table_files.items():
        assert count(settings, f"{schema}.{table}") == expected[file], table


def query(settings: Settings, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql).fetchall()


def count(settings: Settings, table: str) -> int:
    return int(query(settings, f"select count(*) from {table}")[0][0])


def route_counts(sb: SandboxProcess, which: str) -> dict[str, int]:
    """{"METHOD route": calls} from the emulator's counters (all statuses together)."""
    totals: dict[str, int] = {}
    for row in sb.calls(which)["routes"]:  # type: ignore[arg-type]
        key = f"{row['method']} {row['route']}"
        totals[key] = totals.get(key, 0) + int(row["count"])
    return totals
