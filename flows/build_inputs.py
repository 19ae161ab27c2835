"""Reuse the last dbt build when nothing it reads has changed (issue "Cost that follows change").

A build reads the raw tables, the dbt project's files (models, macros, seeds, yml, and the
lmsbridge modules its Python models import), the environment variables the project names
with `env_var()`, and the clock (`as_of`). A scheduled run fingerprints all of these (the
tables cost one scan, `bench/scan.py`'s unit) and, when the fingerprint equals that of the
last build that succeeded, skips the build: the marts would come out the same.

The clock is the one input that always moves. With LMSBRIDGE_AS_OF pinned it is part of the
fingerprint; otherwise a build is reused for at most LMSBRIDGE_BUILD_REUSE_MINUTES, so
time-based rules (attribution lookbacks, the age limit of tasks) move at most that late.

The record (lmsbridge_core/build_record.py) is dropped by every dbt invocation's
on-run-start hook and by an erase, so a manual `dbt build`, or a build that dies half-way,
is never mistaken for the recorded one: the next run builds.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import duckdb

from lmsbridge_core import build_record
from lmsbridge_core.build_record import BuildRecord
from lmsbridge_core.lake import RAW_SCHEMAS
from lmsbridge_core.settings import Settings
from lmsbridge_core.warehouse import quote_name

log = logging.getLogger("lmsbridge.build_inputs")

S = TypeVar("S")

# dbt's own output and caches: not inputs of a build.
_NOT_PROJECT = {"target", "logs", "dbt_packages", "__pycache__", ".user.yml"}
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
_IMPORTED = re.compile(r"^\s*(?:from|import)\s+(lmsbridge_core(?:\.\w+)*)", re.MULTILINE)
# What parses and runs the project: a new version may compile it differently.
_ENGINE_PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb")


def fingerprint(settings: Settings) -> str:
    """One digest of everything a `dbt build` of this warehouse reads."""
    from flows.dbt_step import invocation

    dbt = invocation(settings)
    digest = hashlib.sha256()
    for part in (
        _project_parts(dbt.project_dir, dbt.child_env()),
        _version_parts(),
        _table_parts(settings.warehouse_path),
    ):
        for name, value in part:
            digest.update(f"{name}\0{value}\0".encode())
    return digest.hexdigest()


def _project_parts(project_dir: Path, env: dict[str, str]) -> list[tuple[str, str]]:
    """Each project file's digest, the lmsbridge modules its Python models import, and the
    values of the env vars it names: one read of each file."""
    parts: list[tuple[str, str]] = []
    env_names: set[str] = set()
    files = sorted(
        path
        for path in project_dir.rglob("*")
        if path.is_file() and not _NOT_PROJECT.intersection(path.relative_to(project_dir).parts)
    )
    for path in files:
        content = path.read_bytes()
        parts.append((f"file:{path.relative_to(project_dir)}", hashlib.sha256(content).hexdigest()))
        if path.suffix not in (".yml", ".yaml", ".sql", ".py"):
            continue
        text = content.decode("utf-8", "replace")
        env_names.update(_ENV_VAR.findall(text))
        if path.suffix == ".py":
            for module in _IMPORTED.findall(text):
                spec = importlib.util.find_spec(module)
                origin = Path(spec.origin) if spec and spec.origin else None
                if origin is not None and origin.is_file():
                    parts.append(
                        (f"module:{module}", hashlib.sha256(origin.read_bytes()).hexdigest())
                    )
    # Hashed with the rest, never stored: a value may be a credential.
    parts.extend((f"env:{name}", env.get(name, "\0unset")) for name in sorted(env_names))
    return parts


def _version_parts() -> Iterable[tuple[str, str]]:
    for package in _ENGINE_PACKAGES:
        try:
            yield f"package:{package}", metadata.version(package)
        except metadata.PackageNotFoundError:
            yield f"package:{package}", "absent"


def _table_parts(warehouse: Path) -> Iterable[tuple[str, str]]:
    """Each raw table's row count and the sum of its rows' hashes.

    dlt's bookkeeping is left out: its tables (`_dlt_*`), which every load writes, and its
    columns (`_dlt_load_id`, `_dlt_id`, `_dlt_parent_id`, ...), which differ each time a
    load lands a row again unchanged (HubSpot's overlapping reads, a repeated sweep). The
    models read a row's content; a row landed again as it was builds the same marts."""
    if not warehouse.exists():
        return []
    # Read-write like every other connection of a run: DuckDB refuses a second, read-only
    # configuration of a file this process (dbt, the reverse ETL) may still hold open.
    with duckdb.connect(str(warehouse)) as con:
        marks = ",".join("?" * len(RAW_SCHEMAS))
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_schema in ({marks}) and table_type = 'BASE TABLE' "
            "and not starts_with(table_name, '_dlt_') order by all",
            list(RAW_SCHEMAS),
        ).fetchall()
        columns: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            f"where table_schema in ({marks}) and not starts_with(column_name, '_dlt_') "
            "order by table_schema, table_name, ordinal_position",
            list(RAW_SCHEMAS),
        ).fetchall():
            columns.setdefault((schema, table), []).append(quote_name(column))
        parts = []
        for schema, table in tables:
            content = ", ".join(columns.get((schema, table), [])) or "null"
            rows, hashed = con.execute(
                f"select count(*), coalesce(sum(hash({content})), 0) "
                f"from {quote_name(schema)}.{quote_name(table)}"
            ).fetchone() or (0, 0)
            parts.append((f"table:{schema}.{table}", f"{rows}:{hashed}"))
        return parts


def last_build(settings: Settings) -> BuildRecord | None:
    """The record of the last build that succeeded, if no dbt invocation came after it."""
    if not settings.warehouse_path.exists():
        return None
    with duckdb.connect(str(settings.warehouse_path)) as con:
        return build_record.read(con)


def record(settings: Settings, digest: str, built_at: float | None = None) -> None:
    """Remember the inputs of the build that just succeeded."""
    if not settings.warehouse_path.exists():
        return  # nothing was built into it
    made = BuildRecord(
        digest, settings.as_of is not None, time.time() if built_at is None else built_at
    )
    with duckdb.connect(str(settings.warehouse_path)) as con:
        build_record.write(con, made)


def reusable(settings: Settings, digest: str, now: float | None = None) -> BuildRecord | None:
    """The last build, when its inputs were `digest` and (with the clock not pinned) it is
    younger than LMSBRIDGE_BUILD_REUSE_MINUTES."""
    if settings.build_reuse_minutes <= 0:
        return None
    last = last_build(settings)
    if last is None or last.digest != digest:
        return None
    pinned = settings.as_of is not None
    if last.as_of_pinned != pinned:
        return None
    age_s = (time.time() if now is None else now) - last.built_at
    if not pinned and not 0 <= age_s < settings.build_reuse_minutes * 60:
        return None
    return last


def build_if_changed(
    settings: Settings,
    build: Callable[[], S],
    *,
    reused: Callable[[BuildRecord], S],
    always: bool = False,
) -> S:
    """`build()` unless the inputs equal the last successful build's (then `reused(last)`),
    or always with `always`; after a build that returns, its inputs are recorded."""
    try:
        digest: str | None = fingerprint(settings)
        last = None if always or digest is None else reusable(settings, digest)
    except (duckdb.Error, OSError, UnicodeError) as exc:
        # Bookkeeping must never fail a run: without a fingerprint the run just builds.
        log.warning("build inputs not fingerprinted (building): %s", exc)
        digest, last = None, None
    if last is not None:
        log.info(
            "dbt build skipped: its inputs are unchanged since the build at %s", last.built_at_text
        )
        return reused(last)
    summary = build()
    if digest is not None:
        try:
            record(settings, digest)
        except (duckdb.Error, OSError) as exc:
            log.warning("build inputs not recorded (the next run builds again): %s", exc)
    return summary
