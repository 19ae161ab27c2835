"""What every extract entry point returns, and the progress callback type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Progress = Callable[[str, int, int | None], None]


class ExtractError(RuntimeError):
    """An extract could not finish; the message is safe to show (no secrets)."""


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
