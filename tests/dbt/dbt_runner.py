"""dbt in a child process against a given warehouse, for the dbt tests (an isolated process
per build, so parallel workers never share dbt's global state)."""

from __future__ import annotations

from pathlib import Path

from lmsbridge_core.dbt_invocation import DbtInvocation, DbtProcessResult

DbtResult = DbtProcessResult


def run_dbt(args: list[str], warehouse: Path, work_dir: Path, as_of: str) -> DbtResult:
    """target/ and logs/ go under work_dir so parallel runs never clash."""
    return DbtInvocation(warehouse=warehouse, work_dir=work_dir, as_of=as_of).run(args)
