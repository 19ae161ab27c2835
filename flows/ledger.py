"""Run ledger: one row per run (pid, start, end, status) in a small SQLite file.

A file beside the warehouse rather than a warehouse table: a run holds the DuckDB write lock
for its whole length, and `lmsbridge status` must still read the ledger then. SQLite lets
several processes read and append safely. A run killed with SIGKILL cannot record its end,
so every start (and `status`) checks the rows still saying "running": if their process is
gone they become "crashed".
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from lmsbridge_core.settings import Settings

RUNNING, OK, FAILED, CRASHED = "running", "ok", "failed", "crashed"

_SCHEMA = """
create table if not exists runs (
    id text primary key,
    flow text not null,
    mode text not null,
    pid integer not null,
    host text not null,
    process_started real not null,
    started_at text not null,
    finished_at text,
    status text not null,
    error text,
    flow_run_id text,
    prefect_marked integer not null default 0,
    summary_json text
)
"""


@dataclass(frozen=True)
class RunEntry:
    id: str
    flow: str
    mode: str
    pid: int
    started_at: str
    finished_at: str | None
    status: str
    error: str | None
    flow_run_id: str | None

    # The failure hook reads these off a Prefect flow run; a direct run has no deployment.
    @property
    def name(self) -> str:
        return f"{self.mode}-{self.id[:8]}"

    deployment_id = None


_COLUMNS = "id, flow, mode, pid, started_at, finished_at, status, error, flow_run_id"


def ledger_path(settings: Settings) -> Path:
    return settings.warehouse_path.resolve().parent / "run_ledger.sqlite"


@contextmanager
def _connect(settings: Settings) -> Iterator[sqlite3.Connection]:
    path = ledger_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A generous busy timeout: a status reader and a starting run may touch it together.
    with closing(sqlite3.connect(path, timeout=30.0)) as con:
        con.execute(_SCHEMA)
        columns = {row[1] for row in con.execute("pragma table_info(runs)")}
        if "summary_json" not in columns:  # a ledger from before run summaries were kept
            con.execute("alter table runs add column summary_json text")
        with con:
            yield con


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _process_started(pid: int) -> float:
    return psutil.Process(pid).create_time()


def _alive(pid: int, process_started: float) -> bool:
    """The same process still runs (a recycled pid has a different start time)."""
    try:
        return abs(_process_started(pid) - process_started) < 1.0
    except psutil.Error:
        return False


def mark_crashed(settings: Settings) -> list[RunEntry]:
    """Rows of this host still "running" whose process is gone become "crashed"."""
    if not ledger_path(settings).exists():
        return []
    host = socket.gethostname()
    with _connect(settings) as con:
        rows = con.execute(
            "select id, pid, process_started from runs where status = ? and host = ?",
            [RUNNING, host],
        ).fetchall()
        dead = [run_id for run_id, pid, started in rows if not _alive(pid, started)]
        for run_id in dead:
            con.execute(
                "update runs set status = ?, finished_at = ?, error = ? where id = ?",
                [CRASHED, _now(), "the process ended without recording a result (killed?)", run_id],
            )
        if not dead:
            return []
        marks = ",".join("?" * len(dead))
        return [
            RunEntry(*row)
            for row in con.execute(f"select {_COLUMNS} from runs where id in ({marks})", dead)
        ]


def start(settings: Settings, flow: str, mode: str, flow_run_id: str | None = None) -> RunEntry:
    pid = os.getpid()
    entry = RunEntry(
        id=uuid.uuid4().hex,
        flow=flow,
        mode=mode,
        pid=pid,
        started_at=_now(),
        finished_at=None,
        status=RUNNING,
        error=None,
        flow_run_id=flow_run_id,
    )
    with _connect(settings) as con:
        con.execute(
            "insert into runs (id, flow, mode, pid, host, process_started, started_at, status, "
            "flow_run_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                entry.id,
                flow,
                mode,
                pid,
                socket.gethostname(),
                _process_started(pid),
                entry.started_at,
                RUNNING,
                flow_run_id,
            ],
        )
    return entry


def finish(settings: Settings, entry: RunEntry, status: str, error: str | None = None) -> None:
    with _connect(settings) as con:
        con.execute(
            "update runs set status = ?, finished_at = ?, error = ? where id = ?",
            [status, _now(), error[:2000] if error else None, entry.id],
        )


@contextmanager
def recorded(
    settings: Settings, flow: str, mode: str, flow_run_id: str | None = None
) -> Iterator[RunEntry]:
    """A ledger row for the block: ok, or failed with the error (a kill leaves it running)."""
    mark_crashed(settings)
    entry = start(settings, flow, mode, flow_run_id)
    try:
        yield entry
    except BaseException as exc:
        finish(settings, entry, FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finish(settings, entry, OK)


def save_summary(settings: Settings, entry: RunEntry, summary: dict[str, Any]) -> None:
    """Keep what the run did (flows.summary.to_record) for `lmsbridge status`."""
    with _connect(settings) as con:
        con.execute(
            "update runs set summary_json = ? where id = ?",
            [json.dumps(summary, default=str), entry.id],
        )


def summaries(settings: Settings, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """run id -> its saved summary, for the runs that have one."""
    if not run_ids or not ledger_path(settings).exists():
        return {}
    marks = ",".join("?" * len(run_ids))
    with _connect(settings) as con:
        rows = con.execute(
            f"select id, summary_json from runs where id in ({marks}) and summary_json is not null",
            run_ids,
        ).fetchall()
    found = {}
    for run_id, text in rows:
        try:
            found[run_id] = json.loads(text)
        except ValueError:
            continue  # an unreadable summary hides one row's numbers, not the status
    return found


def _select(settings: Settings, rest: str, params: list[Any]) -> list[RunEntry]:
    """Rows of the ledger (none when no run was ever recorded); `rest` follows `from runs`."""
    if not ledger_path(settings).exists():
        return []
    with _connect(settings) as con:
        return [
            RunEntry(*row) for row in con.execute(f"select {_COLUMNS} from runs {rest}", params)
        ]


def recent(settings: Settings, limit: int = 10) -> list[RunEntry]:
    return _select(settings, "order by started_at desc, rowid desc limit ?", [limit])


def crashed_flow_runs_to_mark(settings: Settings) -> list[RunEntry]:
    """Crashed rows of Prefect flow runs whose Prefect state was not corrected yet."""
    return _select(
        settings, "where status = ? and flow_run_id is not null and prefect_marked = 0", [CRASHED]
    )


def set_prefect_marked(settings: Settings, entry: RunEntry) -> None:
    with _connect(settings) as con:
        con.execute("update runs set prefect_marked = 1 where id = ?", [entry.id])


def duration_s(entry: RunEntry) -> float | None:
    if entry.finished_at is None:
        return None
    end = datetime.fromisoformat(entry.finished_at)
    return (end - datetime.fromisoformat(entry.started_at)).total_seconds()
