"""Old versus new LearnWorlds extraction on the same emulated school: are the marts the same?

The old extractor is another commit's `extract` package, unpacked with `git archive` (no
worktree, so the repository's own state is untouched) and run in a child process against
the same emulator. Each landing gets the same HubSpot and CSV raw data and one `dbt run`
(seeds and models: tests change no mart) at the same AS_OF; the marts are then compared by row count and an order-free hash of their rows, leaving
out only the columns that say when a run read the data.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import duckdb

from lmsbridge_core.dbt_invocation import DbtInvocation

ROOT = Path(__file__).resolve().parent.parent
# Run in the child: the extract of whatever `extract` package PYTHONPATH puts first.
_OLD_RUN = """
import json, sys
from extract import run_lms
from lmsbridge_core.settings import Settings
rate = json.loads(sys.argv[1])
result = run_lms(Settings(), rate=tuple(rate) if rate else None)
print(json.dumps({"calls": result.api_calls}))
"""


def unpack(commit: str, into: Path) -> Path:
    """`commit`'s tree in `into`, for importing its packages."""
    archive = subprocess.run(
        ["git", "archive", commit], cwd=ROOT, check=True, capture_output=True
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_old_lms(
    tree: Path, env: dict[str, str], warehouse: Path, rate: tuple[int, float] | None
) -> int:
    """One LMS extract by the old code into `warehouse`; its API calls."""
    child_env = {
        **os.environ,
        **env,
        "LMSBRIDGE_WAREHOUSE_PATH": str(warehouse),
        "PYTHONPATH": str(tree),
    }
    done = subprocess.run(
        [sys.executable, "-c", _OLD_RUN, json.dumps(rate)],
        cwd=tree,
        env=child_env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(json.loads(done.stdout.strip().splitlines()[-1])["calls"])


def _is_read_time(column: str) -> bool:
    """When a run read or landed the data (`lms_read_at`, `landed_at`): differs by design."""
    return column.endswith("_read_at") or column == "landed_at"


def mart_fingerprints(warehouse: Path) -> dict[str, dict[str, Any]]:
    """{schema.table: {rows, hash, ignored}} for every table and view in the marts schema;
    the hash is order-free and leaves out the read-time columns."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = con.sql(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema like '%marts' order by 1, 2, ordinal_position"
        ).fetchall()
        tables: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in columns:
            tables.setdefault((schema, table), []).append(column)
        out: dict[str, dict[str, Any]] = {}
        for (schema, table), names in tables.items():
            kept = ", ".join(f'"{c}"' for c in names if not _is_read_time(c))
            rows, digest = con.sql(
                f'select count(*), coalesce(sum(hash({kept})), 0) from "{schema}"."{table}"'
            ).fetchone()  # type: ignore[misc]
            out[f"{schema}.{table}"] = {
                "rows": int(rows),
                "hash": str(digest),
                "ignored": [c for c in names if _is_read_time(c)],
            }
    return out


def build_and_compare(old: Path, new: Path, as_of: str, work: Path) -> dict[str, Any]:
    """dbt on both landings; which marts differ, with their row counts."""
    for name, warehouse in (("old", old), ("new", new)):
        dbt = DbtInvocation(warehouse, work / f"dbt-{name}", as_of)
        for command in (["seed"], ["run"]):
            done = dbt.run(command)
            if done.returncode != 0:
                raise SystemExit(
                    f"dbt {command[0]} on the {name} landing failed:\n{done.output[-4000:]}"
                )
    before, after = mart_fingerprints(old), mart_fingerprints(new)
    differing = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    return {
        "marts": len(after),
        "rows": sum(m["rows"] for m in after.values()),
        "identical": not differing,
        "differing": {k: {"old": before.get(k), "new": after.get(k)} for k in differing},
        "fingerprints": after,
    }
