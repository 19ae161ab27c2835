"""What every extract entry point returns, and the progress callback type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lmsbridge_core.errors import ApiResponseError

Progress = Callable[[str, int, int | None], None]


class ExtractError(ApiResponseError):
    """An API answered something an extract cannot use (wrong shape, not JSON, no progress).

    The message is safe to show (no secrets). Failures of other kinds leave as their own
    `lmsbridge_core.errors` type (auth, unreachable, transient, quota, configuration).
    """


@dataclass
class ExtractResult:
    source: str
    rows_by_table: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    api_calls: int = 0
    duration_s: float = 0.0


def report(progress: Progress | None, step: str, done: int, total: int | None = None) -> None:
    """Call the optional progress callback."""
    if progress is not None:
        progress(step, done, total)
