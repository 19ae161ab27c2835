"""Start-up: `lmsbridge --help` loads none of the heavy libraries; each command imports its own.

An assertion on what is imported, not on time: a heavy import back at module level (of the
CLI, or of a module it imports, such as flows.summary) fails here on any machine.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Each costs 0.1-1.2 s to import, and none is needed to parse arguments or print help.
HEAVY = (
    "prefect", "dlt", "dbt", "duckdb", "httpx", "pandas", "plotly", "sqlglot",
    "pydantic_settings", "reverse_etl", "extract",
)  # fmt: skip

_PROBE = """
import json, sys
from lmsbridge_cli.cli import app
for argv in (["--help"], ["sync", "--help"], ["build", "--help"]):
    try:
        app(argv)
    except SystemExit:
        pass
heavy = set(json.loads(sys.argv[1]))
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & heavy)))
"""


def test_help_imports_no_heavy_library() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == [], f"imported by `lmsbridge --help`: {loaded}"
    # the probe really rendered the help it was asked for
    assert "--select" in proc.stdout and "--dry-run" in proc.stdout
