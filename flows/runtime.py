"""Process-wide hooks the CLI or the demo install and the flow's tasks read.

Flow parameters are sent to the Prefect API, so a callable (or a test-only knob) cannot
travel as one; tasks run in worker threads of the same process and read them from here.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str, int, int | None], None]

_progress: Progress | None = None
_lms_rate: tuple[int, float] | None = None


def set_progress(callback: Progress | None) -> None:
    global _progress
    _progress = callback


def get_progress() -> Progress | None:
    return _progress


def set_lms_rate(rate: tuple[int, float] | None) -> None:
    """Client-side LearnWorlds pace (calls, window s). Only for an emulator whose limit was
    raised to match (the demo); None keeps the real API's 30 per 10 s."""
    global _lms_rate
    _lms_rate = rate


def get_lms_rate() -> tuple[int, float] | None:
    return _lms_rate
