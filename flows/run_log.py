"""The run's full log in a file beside the warehouse; the screen keeps warnings and errors.

Prefect's and dbt's per-step INFO lines (hundreds per run) are what an operator greps after
the fact, not what they read while a run goes; the CLI prints a summary at the end instead.
"""

from __future__ import annotations

import logging
import os
from logging.handlers import RotatingFileHandler
from pathlib import Path

from lmsbridge_core.settings import Settings

# Our loggers log INFO to the file; libraries stay at their own levels (httpx would log
# every request at INFO).
OUR_LOGGERS = ("lmsbridge", "reverse_etl", "extract", "flows", "prefect")
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5


def log_path(settings: Settings) -> Path:
    return settings.warehouse_path.resolve().parent / "logs" / "lmsbridge.log"


class _RunLogHandler(RotatingFileHandler):
    """Marks the handler this module installed, so a second call adds no duplicate."""


def log_to_file(settings: Settings) -> Path | None:
    """Send INFO and above of our loggers (and Prefect's) to the run log; None if the folder
    cannot be written (a log file is a courtesy, never a reason to fail a run)."""
    path = log_path(settings)
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler, _RunLogHandler) and Path(handler.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _RunLogHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError:
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    for name in OUR_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
    return path


def quiet_console_env(debug: bool = False) -> None:
    """Before Prefect configures logging: its console handler shows warnings and errors only
    (everything still reaches the flow run's logs and the run log file); dbt writes no colour
    codes into logs."""
    if not debug:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
    os.environ.setdefault("DBT_USE_COLORS", "false")
    os.environ.setdefault("DBT_USE_COLORS_FILE", "false")
