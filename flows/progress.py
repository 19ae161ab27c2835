"""The progress callback the CLI or the demo installs and the pipeline's steps read.

Flow parameters are sent to the Prefect API, so a callable cannot travel as one; steps run
in worker threads of the same process and read it from here (in both modes).
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]

_progress: Progress | None = None


def set_progress(callback: Progress | None) -> None:
    global _progress
    _progress = callback


def get_progress() -> Progress | None:
    return _progress
