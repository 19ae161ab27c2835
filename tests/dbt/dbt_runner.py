"""Run dbt against a given warehouse file in a subprocess (own env, own target/log paths)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


@dataclass(frozen=True)
class DbtResult:
    returncode: int
    output: str
    run_results: dict[str, Any]

    def statuses(self) -> dict[str, str]:
        return {r["unique_id"]: r["status"] for r in self.run_results.get("results", [])}


def run_dbt(args: list[str], warehouse: Path, work_dir: Path, as_of: str) -> DbtResult:
    """Invoke the dbt CLI; target/ and logs/ go under work_dir so parallel runs never clash."""
    target = work_dir / "target"
    env = {
        **os.environ,
        "LMSBRIDGE_WAREHOUSE_PATH": str(warehouse),
        "LMSBRIDGE_AS_OF": as_of,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    command = [
        sys.executable,
        "-c",
        "from dbt.cli.main import cli; cli()",
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target),
        "--log-path",
        str(work_dir / "logs"),
    ]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    results_file = target / "run_results.json"
    run_results = json.loads(results_file.read_text()) if results_file.exists() else {}
    return DbtResult(proc.returncode, proc.stdout + proc.stderr, run_results)
