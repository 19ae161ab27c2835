"""Process set-up done at CLI or serve start, never at import: checks and Prefect's env.

Importing `flows` must not touch the environment or the disk (tests, tools and the import
linter import it); these run inside the CLI's error handling, so a bad folder is one line
and exit 2, not a traceback.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lmsbridge_core.errors import ConfigurationError
from lmsbridge_core.settings import Settings

# Bytes 8..11 of every DuckDB database file.
_DUCKDB_MAGIC = b"DUCK"

_QUIET_ENV = {
    # Nothing may phone home from a data pipeline.
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
}


def quiet_tools() -> None:
    for key, value in _QUIET_ENV.items():
        os.environ.setdefault(key, value)


def check_warehouse_path(settings: Settings) -> None:
    """LMSBRIDGE_WAREHOUSE_PATH must be a DuckDB file or a path where one can be created.

    Checked before any step opens it: otherwise DuckDB, dlt or dbt report it in their own
    words (dlt's mentions a possibly broken internet connection).
    """
    path = settings.warehouse_path
    name = f"LMSBRIDGE_WAREHOUSE_PATH={path}"
    if str(path) == ":memory:":
        return
    if path.is_dir():
        raise ConfigurationError(f"{name} is a folder; point it at a DuckDB file inside it")
    if path.exists():
        try:
            with path.open("rb") as handle:
                header = handle.read(12)
        except OSError as exc:
            raise ConfigurationError(f"{name} cannot be read: {exc.strerror}") from None
        if header[8:12] != _DUCKDB_MAGIC:
            raise ConfigurationError(f"{name} exists but is not a DuckDB database file")
        return
    for parent in path.resolve().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigurationError(f"{name}: {parent} is a file, not a folder")
            break


def ensure_folder(folder: Path, what: str) -> None:
    """Create a folder we write into and prove it is writable, or name the setting."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(f"cannot write {what} in {folder}: {reason}") from None


def prefect_server_configured() -> bool:
    """A Prefect server to report to; without one the CLI never talks to Prefect."""
    return bool(os.environ.get("PREFECT_API_URL", "").strip())


def prefect_home(settings: Settings) -> Path:
    return settings.warehouse_path.resolve().parent / ".prefect"


def configure_prefect(settings: Settings) -> Path:
    """Prefect's env, set before Prefect is imported (it reads some settings at import).

    Its database and logs live beside the warehouse, not in ~/.prefect; a cold temporary
    server needs a longer start-up timeout than Prefect's default.
    """
    quiet_tools()
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    # The pipeline logs through plain `logging`; this puts its lines in the flow run's logs.
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "lmsbridge")
    home = Path(os.environ.setdefault("PREFECT_HOME", str(prefect_home(settings))))
    ensure_folder(home, "Prefect's state (PREFECT_HOME, beside LMSBRIDGE_WAREHOUSE_PATH)")
    return home
