"""dbt in a child process against a given warehouse, for the dbt tests (an isolated process
per build, so parallel workers never share dbt's global state)."""

from __future__ import annotations

import shutil
from pathlib import Path

from lmsbridge_core.dbt_invocation import PROJECT_DIR, DbtInvocation, DbtProcessResult

DbtResult = DbtProcessResult


def run_dbt(args: list[str], warehouse: Path, work_dir: Path, as_of: str) -> DbtResult:
    """target/ and logs/ go under work_dir so parallel runs never clash."""
    return DbtInvocation(warehouse=warehouse, work_dir=work_dir, as_of=as_of).run(args)


def copy_project(into: Path) -> Path:
    """A private copy of the shipped dbt project at into/dbt_project (its seeds or vars can then
    be edited as an analyst would), without the shipped project's build output."""
    project = into / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    return project
