"""Where every benchmark writes its figures: bench/results/<name>.json, one list of runs, each
stamped with the commit and the machine so numbers from different runs are never mixed up."""

from __future__ import annotations

import json
import platform
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The short commit the benchmark ran on ('unknown' outside a git checkout)."""
    proc = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return proc.stdout.strip() or "unknown"


def machine() -> str:
    return f"{platform.machine()} {platform.node()} python {platform.python_version()}"


def record(
    path: Path, result: dict[str, Any], replaces: Callable[[dict[str, Any]], bool] | None = None
) -> None:
    """Append `result` to the list in `path`, first dropping the runs `replaces` matches (an
    older run of the same size, say)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text()) if path.exists() else []
    if replaces is not None:
        existing = [r for r in existing if not replaces(r)]
    path.write_text(json.dumps([*existing, result], indent=2) + "\n")
