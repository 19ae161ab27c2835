"""The one way this codebase invokes dbt: the pipeline's build, the report's docs, the
benchmarks and the tests all go through `DbtInvocation`.

Each invocation names its warehouse and a work directory; dbt's target/ and logs/ go in that
work directory, so two warehouses (demo, tests, production, a benchmark) never share or
clobber each other's artifacts, and profiles.yml reads the warehouse path from the
environment this module sets. In-process runs scope that environment to the call; child
processes (tests and benchmarks, for isolation and memory measurement) get it explicitly.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
# dbt's own command line, for child processes; the console script may not be on PATH.
DBT_CLI = (sys.executable, "-c", "from dbt.cli.main import cli; cli()")
# ... and with Python models on a local Spark session (lmsbridge_core.spark_python_models)
DBT_SPARK_CLI = (sys.executable, "-m", "lmsbridge_core.dbt_cli")
SPARK_TARGET = "spark"

_QUIET_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class DbtProcessResult:
    """What a dbt child process left: exit code, console output, run_results.json."""

    returncode: int
    output: str
    run_results: dict[str, Any]

    def statuses(self) -> dict[str, str]:
        return {r["unique_id"]: r["status"] for r in self.run_results.get("results", [])}


@dataclass(frozen=True)
class DbtInvocation:
    warehouse: Path
    work_dir: Path
    as_of: str | None = None
    project_dir: Path = PROJECT_DIR
    # profiles.yml output; None is its default (DuckDB). "spark" needs the group `spark`.
    target: str | None = None
    # what the target's output reads besides the warehouse path (LMSBRIDGE_SPARK_*)
    target_env: tuple[tuple[str, str], ...] = ()

    @property
    def target_dir(self) -> Path:
        return self.work_dir / "target"

    @property
    def log_dir(self) -> Path:
        return self.work_dir / "logs"

    def env(self) -> dict[str, str]:
        """What profiles.yml and dbt_project.yml read from the environment (the `as_of` var
        defaults to LMSBRIDGE_AS_OF, so no --vars is needed for it)."""
        env = {
            "LMSBRIDGE_WAREHOUSE_PATH": str(Path(self.warehouse).resolve()),
            **_QUIET_ENV,
            # dbt logs every query and connection event to the file at its default (debug):
            # a tenth of a small build's time. An operator can still ask for it.
            "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE", "info"),
            **dict(self.target_env),
        }
        if self.as_of:
            env["LMSBRIDGE_AS_OF"] = self.as_of
        return env

    def args(self, command: Sequence[str]) -> list[str]:
        """dbt arguments: the command, then this project's paths."""
        return [
            *command,
            "--project-dir", str(self.project_dir), "--profiles-dir", str(self.project_dir),
            "--target-path", str(self.target_dir), "--log-path", str(self.log_dir),
            *(("--target", self.target) if self.target else ()),
        ]  # fmt: skip

    def invoke(
        self, command: Sequence[str], *, callbacks: Sequence[Callable[[Any], None]] = ()
    ) -> Any:
        """dbt in this process (dbtRunner, quiet: callers report progress and failures);
        returns its dbtRunnerResult."""
        from dbt.cli.main import dbtRunner

        if self.target == SPARK_TARGET:
            from lmsbridge_core import spark_python_models

            spark_python_models.enable()
        with self.environment():
            return dbtRunner(callbacks=list(callbacks)).invoke(["--quiet", *self.args(command)])

    def _apply(self, env: MutableMapping[str, str]) -> None:
        """Set this invocation's variables in `env`; an unset as_of must not inherit one."""
        env.update(self.env())
        if not self.as_of:
            env.pop("LMSBRIDGE_AS_OF", None)

    @contextlib.contextmanager
    def environment(self) -> Iterator[None]:
        """This invocation's variables in os.environ for the duration, the old ones after
        (dbt reads env_var() at parse time, in this process)."""
        previous = {name: os.environ.get(name) for name in (*self.env(), "LMSBRIDGE_AS_OF")}
        self._apply(os.environ)
        try:
            yield
        finally:
            for name, value in previous.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def command(self, command: Sequence[str]) -> list[str]:
        """The argv of a dbt child process (pair it with `child_env()`)."""
        cli = DBT_SPARK_CLI if self.target == SPARK_TARGET else DBT_CLI
        return [*cli, *self.args(command)]

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        self._apply(env)
        return env

    def run(self, command: Sequence[str]) -> DbtProcessResult:
        """dbt in a child process, its output captured."""
        proc = subprocess.run(
            self.command(command),
            env=self.child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        return DbtProcessResult(proc.returncode, proc.stdout, self.run_results())

    def run_results(self) -> dict[str, Any]:
        path = self.target_dir / "run_results.json"
        return json.loads(path.read_text()) if path.exists() else {}
