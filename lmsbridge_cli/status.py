"""`lmsbridge status`: recent sync runs, rejected rows and the schedule, for a quick look."""

from __future__ import annotations

import fcntl
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from croniter import croniter
from rich import box
from rich.console import Console
from rich.table import Table

from flows import ledger
from flows.progress import read_progress
from flows.schedule_state import load_state
from lmsbridge_core.settings import Settings
from lmsbridge_core.warehouse import table_exists
from reverse_etl.field_state import invalid_mappings


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
            ("csv import", str(reason)[:200], n)
            for reason, n in con.execute(
                "select reason, count(*) from raw_lms_files.rejected_rows group by all order by 2 desc limit 10"
            ).fetchall()
        ]
    return counts


def next_runs(cron: str, count: int = 3, now: datetime | None = None) -> list[datetime]:
    it = croniter(cron, now or datetime.now(UTC))
    return [it.get_next(datetime) for _ in range(count)]


def _what(flow: str) -> str:
    return flow.removeprefix("lmsbridge-")


def _num(record: dict[str, Any] | None, key: str) -> str:
    if record is None or record.get(key) is None:
        return ""
    return f"{record[key]:,}"


def print_ledger(settings: Settings, console: Console, limit: int) -> None:
    """One row per run (pipeline runs and one-shot commands, crashed ones too), then what the
    latest run with a summary changed. Numbers never wrap or truncate: the table has as
    many columns as fit in 80."""
    try:
        ledger.mark_crashed(settings)
        runs = ledger.recent(settings, limit)
        summaries = ledger.summaries(settings, [r.id for r in runs])
    except (sqlite3.Error, OSError) as exc:
        # A read-only or damaged ledger must not hide the rest of the status.
        console.print(f"[yellow]run ledger unreadable ({ledger.ledger_path(settings)}): {exc}[/]")
        return
    if not runs:
        console.print("no runs recorded yet")
        return
    # No borders and one space between columns: eight columns of whole numbers fit in 80.
    table = Table(
        title="recent runs (UTC)",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        padding=(0, 1),
    )
    for name in ("started", "run", "what", "status"):
        table.add_column(name, no_wrap=True)
    for name in ("secs", "sent", "rejected", "calls"):
        table.add_column(name, justify="right", no_wrap=True)
    colors = {ledger.OK: "green", ledger.FAILED: "red", ledger.CRASHED: "bold red"}
    for run in runs:
        seconds = ledger.duration_s(run)
        record = summaries.get(run.id)
        calls = sum((record or {}).get("calls_by_api", {}).values()) if record else None
        table.add_row(
            run.started_at.replace("T", " ")[5:16],
            run.id[:8],
            _what(run.flow),
            f"[{colors.get(run.status, 'yellow')}]{run.status}[/]",
            "" if seconds is None else f"{seconds:,.0f}",
            _num(record, "records_sent"),
            _num(record, "records_rejected"),
            "" if calls is None else f"{calls:,}",
        )
    console.print(table)
    for run in runs:
        if run.error and run.status != ledger.OK:
            console.print(f"[red]{run.id[:8]}[/] {run.status}: {run.error[:300]}", soft_wrap=True)
            break
    latest = next((r for r in runs if r.id in summaries), None)
    if latest is not None:
        print_run_summary(console, latest.id, summaries[latest.id])


def print_run_summary(console: Console, run_id: str, record: dict[str, Any]) -> None:
    """What one run changed, its API calls and its rejected records (email and link)."""
    from flows.summary import change_lines

    calls = ", ".join(f"{api} {n:,}" for api, n in sorted(record.get("calls_by_api", {}).items()))
    console.print(f"[bold]run {run_id[:8]}[/] ({record.get('flow')}, {record.get('status')}):")
    for line in change_lines(record) or ["nothing sent"]:
        console.print(f"  {line}", soft_wrap=True)
    console.print(f"  API calls: {calls or 'none'}; {record.get('records_rejected', 0):,} rejected")
    for rejection in record.get("rejections") or []:
        who = rejection.get("email") or "(no email)"
        console.print(f"  - {rejection['sync']} {who}: {rejection['reason']}", soft_wrap=True)
        if rejection.get("link"):
            console.print(f"    {rejection['link']}", soft_wrap=True)


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


def print_last_verify(con: duckdb.DuckDBPyConnection, console: Console) -> None:
    """One line on the newest `lmsbridge verify` (nothing if none ran)."""
    if not table_exists(con, "reverse_etl", "verify_runs"):
        return
    row = con.execute(
        "select verified_at, records_checked, records_drifted, coalesce(two_way_edits, 0) "
        "from reverse_etl.verify_runs order by verified_at desc limit 1"
    ).fetchone()
    if row is None:
        return
    at, checked, drifted, two_way = row
    when = at.strftime("%Y-%m-%d %H:%M UTC")
    edits = f", {two_way:,} two-way edits" if two_way else ""
    state = f"[yellow]{drifted:,} drifted[/]" if drifted else "no drift"
    hint = " (`lmsbridge verify` lists them, `sync --repair` re-sends)" if drifted else ""
    console.print(f"last verify {when}: {checked:,} records checked, {state}{edits}{hint}")


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
            _print_mappings(con, console)
            print_last_verify(con, console)
            rejects = reject_counts(con)
            if rejects:
                rt = Table("where", "reason", "rows", title="rejected rows")
                for where, category, n in rejects:
                    rt.add_row(where, category, f"{n:,}")
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
