"""`lmsbridge status`: recent sync runs, rejected rows and the schedule, for a quick look."""

from __future__ import annotations

import fcntl
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from croniter import croniter
from rich.console import Console
from rich.table import Table

from flows import ledger
from flows.progress import read_progress
from flows.schedule_state import load_state
from lmsbridge_core.settings import Settings
from lmsbridge_core.warehouse import table_exists
from reverse_etl.field_state import invalid_mappings

_RUN_COLUMNS = [
    "started_at", "sync_name", "status", "dry_run", "planned", "sent", "succeeded",
    "rejected", "unchanged", "calls", "status_429", "duration_s",
]  # fmt: skip


def open_for_reading(settings: Settings) -> tuple[duckdb.DuckDBPyConnection, Path] | None:
    """The live warehouse read-only if no run holds it, else the published snapshot."""
    for path in (settings.warehouse_path, settings.published_warehouse_path):
        if not path.exists():
            continue
        try:
            return duckdb.connect(str(path), read_only=True), path
        except duckdb.IOException:
            continue  # a run holds the write lock; the snapshot is the next best view
    return None


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int) -> list[dict[str, Any]]:
    if not table_exists(con, "reverse_etl", "sync_runs"):
        return []
    cur = con.execute(
        f"select {', '.join(_RUN_COLUMNS)} from reverse_etl.sync_runs "
        "order by started_at desc limit ?",
        [limit],
    )
    return [dict(zip(_RUN_COLUMNS, row, strict=True)) for row in cur.fetchall()]


def reject_counts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(where, category, count) for the reverse ETL and the CSV import."""
    counts: list[tuple[str, str, int]] = []
    if table_exists(con, "reverse_etl", "rejected_rows"):
        counts += [
            (f"reverse_etl / {name}", category, n)
            for name, category, n in con.execute(
                "select sync_name, category, count(*) from reverse_etl.rejected_rows "
                "group by all order by 3 desc"
            ).fetchall()
        ]
    if table_exists(con, "raw_lms_files", "rejected_rows"):
        counts += [
            ("csv import", str(reason)[:60], n)
            for reason, n in con.execute(
                "select reason, count(*) from raw_lms_files.rejected_rows group by all order by 2 desc limit 10"
            ).fetchall()
        ]
    return counts


def next_runs(cron: str, count: int = 3, now: datetime | None = None) -> list[datetime]:
    it = croniter(cron, now or datetime.now(UTC))
    return [it.get_next(datetime) for _ in range(count)]


def print_ledger(settings: Settings, console: Console, limit: int) -> None:
    """Recent pipeline runs and one-shot commands, with runs killed mid-way shown as crashed."""
    try:
        ledger.mark_crashed(settings)
        runs = ledger.recent(settings, limit)
    except (sqlite3.Error, OSError) as exc:
        # A read-only or damaged ledger must not hide the rest of the status.
        console.print(f"[yellow]run ledger unreadable ({ledger.ledger_path(settings)}): {exc}[/]")
        return
    if not runs:
        console.print("no runs recorded yet")
        return
    table = Table("started", "what", "mode", "status", "seconds", "error", title="recent runs")
    colors = {ledger.OK: "green", ledger.FAILED: "red", ledger.CRASHED: "bold red"}
    for run in runs:
        seconds = ledger.duration_s(run)
        color = colors.get(run.status, "yellow")
        table.add_row(
            run.started_at.replace("T", " ")[:19],
            run.flow,
            run.mode,
            f"[{color}]{run.status}[/]",
            "" if seconds is None else f"{seconds:.0f}",
            (run.error or "")[:100],
        )
    console.print(table)


def _print_mappings(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    invalid = invalid_mappings(con)
    if not invalid:
        return
    table = Table("mapping", "problem", title="invalid field mappings (skipped)")
    for key, problem in invalid:
        table.add_row(key, problem)
    console.print(table)


def run_in_progress(settings: Settings) -> bool:
    """True while a run holds the run lock beside the warehouse."""
    lock = settings.warehouse_path.resolve().parent / ".lmsbridge-run.lock"
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def print_progress(settings: Settings, console: Console) -> None:
    if not run_in_progress(settings):
        return
    body = read_progress(settings.warehouse_path) or {}
    steps = body.get("steps") or {}
    table = Table("step", "done", "total", title="run in progress")
    for label, count in steps.items():
        total = count.get("total")
        table.add_row(label, f"{count.get('done', 0):,}", "?" if total is None else f"{total:,}")
    console.print(table if steps else "[yellow]a run is in progress[/]")


def print_status(settings: Settings, console: Console, limit: int = 10) -> None:
    print_progress(settings, console)
    print_ledger(settings, console, limit)
    opened = open_for_reading(settings)
    if opened is None:
        console.print(f"no warehouse yet at {settings.warehouse_path}: run `lmsbridge run` first")
    else:
        con, path = opened
        with con:
            if path != settings.warehouse_path:
                console.print(f"[yellow]a run holds the warehouse; showing the snapshot {path}[/]")
            runs = recent_runs(con, limit)
            table = Table(*_RUN_COLUMNS, title="recent sync runs (reverse_etl.sync_runs)")
            for run in runs:
                table.add_row(*(_cell(run[c]) for c in _RUN_COLUMNS))
            console.print(table if runs else "no sync runs recorded yet")
            _print_mappings(con, console)
            rejects = reject_counts(con)
            if rejects:
                rt = Table("where", "reason", "rows", title="rejected rows")
                for where, category, n in rejects:
                    rt.add_row(where, category, str(n))
                console.print(rt)
            else:
                console.print("no rejected rows")
    state = load_state(settings)
    nxt = ", ".join(t.strftime("%Y-%m-%d %H:%M UTC") for t in next_runs(settings.schedule_cron))
    if state.paused:
        console.print(f"[bold red]schedule paused[/] since {state.paused_at}: {state.reason}")
    else:
        console.print(
            f"schedule `{settings.schedule_cron}` (when `lmsbridge serve` runs); next: {nxt}"
        )
    if state.consecutive_failures:
        console.print(
            f"consecutive failed runs: {state.consecutive_failures} (last: {state.last_failure})"
        )


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.1f}"
    return "" if value is None else str(value)
