"""Run `dbt build`: with dbt's own runner, or through prefect-dbt inside a Prefect flow.

Direct mode (the CLI without a Prefect server) runs dbt in this process through
`lmsbridge_core.dbt_invocation` and never imports Prefect; under a flow, prefect-dbt makes
every dbt node its own Prefect task.
Both return dbt's `dbtRunnerResult`, read by `summarize`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from flows.progress import Progress
from flows.spark_step import full_refresh_needed, spark_build, spark_config
from lmsbridge_core.build_record import BuildRecord
from lmsbridge_core.dbt_invocation import SPARK_TARGET, DbtInvocation
from lmsbridge_core.errors import BuildFailed, ConfigurationError
from lmsbridge_core.settings import Settings

Engine = Literal["dbt", "prefect"]

_FAILED = {"error", "fail", "runtime error"}


@dataclass
class DbtSummary:
    models_built: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    tests_warned: int = 0
    seeds_loaded: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    # Set when the build was skipped: its inputs were those of the build at this time.
    reused_build_at: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures

    @classmethod
    def reusing(cls, last: BuildRecord) -> DbtSummary:
        """A build skipped because its inputs were those of `last`."""
        return cls(reused_build_at=last.built_at_text)

    @property
    def line(self) -> str:
        """What the build did, for a person."""
        if self.reused_build_at:
            return f"dbt build skipped: inputs unchanged since the build at {self.reused_build_at}"
        return (
            f"dbt built {self.models_built} models, {self.tests_passed} tests passed, "
            f"{self.tests_failed} failed"
        )


def invocation(settings: Settings) -> DbtInvocation:
    """This run's dbt: target and logs beside the warehouse (see lmsbridge_core.dbt_invocation),
    on the engine LMSBRIDGE_ENGINE names."""
    spark = settings.engine == "spark"
    return DbtInvocation(
        warehouse=settings.warehouse_path,
        work_dir=settings.warehouse_path.resolve().parent / ("dbt-spark" if spark else "dbt"),
        as_of=settings.as_of.isoformat() if settings.as_of is not None else None,
        project_dir=settings.dbt_project_dir.resolve(),
        target=SPARK_TARGET if spark else None,
        target_env=spark_config(settings).env() if spark else (),
    )


# Unit tests check the models' SQL against fixed inputs: they test the code, which does not
# change between scheduled runs, so those skip them (CI's `make test` and `lmsbridge build
# --full` run them). Data tests check the data and still run, gating the reverse ETL.
SKIP_UNIT_TESTS = ("--exclude-resource-type", "unit_test")


def build_command(
    select: str | None = None, *, unit_tests: bool = False, full_refresh: bool = False
) -> list[str]:
    """The one dbt command of a run: `dbt build`, without unit tests unless asked."""
    return [
        "build",
        *(["--select", select] if select else []),
        *(() if unit_tests else SKIP_UNIT_TESTS),
        *(["--full-refresh"] if full_refresh else []),
    ]


def run_dbt_build(
    settings: Settings,
    select: str | None = None,
    *,
    engine: Engine = "dbt",
    progress: Progress | None = None,
    unit_tests: bool = False,
) -> DbtSummary:
    """dbt build (seeds, models, data tests in DAG order; unit tests too with `unit_tests`);
    raises BuildFailed on any failure."""
    dbt = invocation(settings)
    if not (dbt.project_dir / "dbt_project.yml").exists():
        raise ConfigurationError(
            f"LMSBRIDGE_DBT_PROJECT_DIR={dbt.project_dir} has no dbt_project.yml"
        )
    command = build_command(
        select, unit_tests=unit_tests, full_refresh=full_refresh_needed(settings)
    )
    with spark_build(settings) if settings.engine == "spark" else contextlib.nullcontext():
        if engine == "prefect":
            result = _invoke_prefect_dbt(dbt, command)
        else:
            result = dbt.invoke(command, callbacks=[_progress_callback(progress)])
        summary = summarize(result)
        if not summary.ok:
            _raise_build_failed(summary)
    return summary


def _raise_build_failed(summary: DbtSummary) -> None:
    # One line (scripts and the failure webhook read it); each failure names its node.
    failed = BuildFailed(
        f"dbt build failed, reverse ETL not run: {len(summary.failures)} failure(s): "
        + " | ".join(summary.failures)
    )
    failed.summary = summary  # type: ignore[attr-defined]  (the run summary counts tests)
    raise failed


def _progress_callback(progress: Progress | None) -> Callable[[Any], None]:
    # dbt prints a line per node; the progress bar replaces them (the invocation is quiet)
    # and the full log is in the work dir. Errors are still printed, and summarize()
    # reports every failed node.
    def on_event(event: Any) -> None:
        # dbt's per-node result lines carry "index of total": enough for a progress bar.
        name = event.info.name
        data = event.data
        if progress is not None and name.startswith("Log") and name.endswith("Result"):
            index, total = getattr(data, "index", 0), getattr(data, "total", 0)
            if index and total:
                progress("dbt build", int(index), int(total))

    return on_event


def _invoke_prefect_dbt(dbt: DbtInvocation, command: list[str]) -> Any:
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    runner = PrefectDbtRunner(
        settings=PrefectDbtSettings(
            project_dir=dbt.project_dir, profiles_dir=dbt.project_dir, target_path=dbt.target_dir
        ),
        # We read the results ourselves to report every failed test, not just raise.
        raise_on_failure=False,
    )
    if dbt.target == SPARK_TARGET:
        from lmsbridge_core import spark_python_models

        spark_python_models.enable()
    target = ["--target", dbt.target] if dbt.target else []
    try:
        with dbt.environment():
            return runner.invoke([*command, *target], log_path=str(dbt.log_dir))
    except ValueError as exc:  # prefect-dbt's wrapper for a dbt exception (parse error, ...)
        raise BuildFailed(str(exc)) from None


def summarize(result: Any) -> DbtSummary:
    """Count what dbt did, from dbtRunnerResult.result (a RunExecutionResult)."""
    summary = DbtSummary()
    if not result.success and result.result is None:
        summary.failures.append(str(result.exception or "dbt failed before running any node"))
        return summary
    for node_result in getattr(result.result, "results", []) or []:
        node = node_result.node
        kind = str(getattr(node.resource_type, "value", node.resource_type))
        status = str(getattr(node_result.status, "value", node_result.status)).lower()
        if status in _FAILED:
            # dbt's first line names the node; the second usually holds the database's reason.
            lines = [ln.strip() for ln in (node_result.message or "").splitlines() if ln.strip()]
            summary.failures.append(f"{kind} {node.name}: {status}: {' / '.join(lines[:2])}")
        elif status == "skipped":
            summary.skipped += 1
        elif kind == "model":
            summary.models_built += 1
        elif kind in ("test", "unit_test"):
            if status == "warn":
                summary.tests_warned += 1
            else:
                summary.tests_passed += 1
        elif kind == "seed":
            summary.seeds_loaded += 1
        if kind in ("test", "unit_test") and status in _FAILED:
            summary.tests_failed += 1
    return summary
