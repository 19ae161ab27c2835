"""The progress callback the CLI or the demo installs and the pipeline's steps read.

Flow parameters are sent to the Prefect API, so a callable cannot travel as one; steps run
in worker threads of the same process and read it from here (in both modes).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Progress = Callable[[str, int, int | None], None]

_progress: Progress | None = None


def set_progress(callback: Progress | None) -> None:
    global _progress
    _progress = callback


def get_progress() -> Progress | None:
    return _progress


def progress_path(warehouse_path: Path) -> Path:
    """Where a run leaves its latest progress for `lmsbridge status` (beside the warehouse,
    which a running step holds locked)."""
    return warehouse_path.resolve().parent / ".lmsbridge-progress.json"


def tracked(warehouse_path: Path, callback: Progress | None, every_s: float = 0.5) -> Progress:
    """`callback`, and the latest count per label in the progress file (at most every
    `every_s` seconds, and always when a label completes)."""
    path = progress_path(warehouse_path)
    latest: dict[str, dict[str, int | None]] = {}
    written = [0.0]
    lock = threading.Lock()

    def report(label: str, done: int, total: int | None) -> None:
        if callback is not None:
            callback(label, done, total)
        with lock:
            latest[label] = {"done": done, "total": total}
            now = time.monotonic()
            if now - written[0] < every_s and done != total:
                return
            written[0] = now
            body = {"updated_at": time.time(), "steps": latest}
            try:
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(body), encoding="utf-8")
                tmp.replace(path)
            except OSError:
                return  # progress is a courtesy: a full disk must not fail the run

    return report


def read_progress(warehouse_path: Path) -> dict[str, Any] | None:
    try:
        body = json.loads(progress_path(warehouse_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return body if isinstance(body, dict) else None
