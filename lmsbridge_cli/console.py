"""Terminal output for the CLI: progress bars for long steps, quiet tracebacks for known errors."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

console = Console(stderr=False)
err_console = Console(stderr=True)


class ProgressBars:
    """The `(step, done, total)` callback the extract and reverse ETL report to, as rich bars.

    A finished step leaves the screen (the run's summary reports it), so a terminal shows only
    what is in flight and a piped log gets no wall of finished bars.

    Callbacks arrive from worker threads (Prefect's or the direct runner's); rich's Progress is thread-safe, the task
    map is guarded here.
    """

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, step: str, done: int, total: int | None) -> None:
        with self._lock:
            task_id = self._tasks.get(step)
            if task_id is None:
                task_id = self._progress.add_task(step, total=total)
                self._tasks[step] = task_id
        finished = total is not None and done >= total
        self._progress.update(task_id, completed=done, total=total, visible=not finished)

    def finish(self) -> None:
        """Steps still open when the work ended are done: counts that had no total get their
        count as total, so no bar is left spinning at `n/?`."""
        with self._lock:
            for task in self._progress.tasks:
                if task.total is None or task.completed < task.total:
                    self._progress.update(task.id, total=task.completed)
                self._progress.update(task.id, visible=False)


@contextmanager
def progress_bars() -> Iterator[ProgressBars]:
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        bars = ProgressBars(progress)
        try:
            yield bars
        finally:
            bars.finish()


class _NoTraceback(logging.Filter):
    """Drop exception details from console log lines; the CLI prints one clear error."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def quiet_log_tracebacks() -> None:
    """Keep console log handlers (ours, Prefect's) from printing tracebacks for failures the
    CLI explains in one line. Prefect's API log handler is not a console handler and still
    stores the full detail in the flow run's logs."""
    from rich.logging import RichHandler

    for name in ("", "prefect"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler | RichHandler) and not any(
                isinstance(f, _NoTraceback) for f in handler.filters
            ):
                handler.addFilter(_NoTraceback())
