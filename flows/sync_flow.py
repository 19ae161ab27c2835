"""The two Prefect flows: `lmsbridge-sync` (incremental) and `lmsbridge-full-resync`.

The pipeline itself is flows/pipeline.py; here each of its steps becomes a Prefect task
(retries only for retryable errors, nothing cached), dbt runs through prefect-dbt (a task per
node), and runs take the global concurrency limit `lmsbridge-sync`. Used by `lmsbridge serve`,
and by `lmsbridge run` / `resync` when a Prefect server is configured (PREFECT_API_URL).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
from prefect.context import get_run_context
from prefect.exceptions import ObjectAlreadyExists

from flows import ledger
from flows.dbt_step import DbtSummary, run_dbt_build
from flows.notify import on_flow_failure
from flows.pipeline import (
    RESYNC_FLOW,
    RETRY,
    SYNC_FLOW,
    check_config,
    run_lock,
    run_recorded,
)
from flows.schedule_state import load_state, record_success
from flows.summary import RunSummary, render_markdown
from lmsbridge_core.errors import RunSkipped, is_retryable
from lmsbridge_core.settings import Settings, load_settings

T = TypeVar("T")
CONCURRENCY_LIMIT = "lmsbridge-sync"
log = logging.getLogger("lmsbridge.flows")


def retry_if_retryable(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as exc:
        return is_retryable(exc)
    return False


def _task_options(retry: bool) -> dict[str, Any]:
    # Settings hold secrets: never hash or persist task inputs.
    options: dict[str, Any] = {"cache_policy": NO_CACHE}
    if retry:
        options |= {
            "retries": RETRY.retries,
            "retry_delay_seconds": list(RETRY.delays_s),
            "retry_jitter_factor": RETRY.jitter_factor,
            "retry_condition_fn": retry_if_retryable,
        }
    return options


_tasks: dict[tuple[str, bool], Task[..., Any]] = {}


def step_task(name: str, fn: Callable[..., Any], retry: bool = True) -> Task[..., Any]:
    """The Prefect task for a pipeline step (made once per step, so runs reuse it)."""
    key = (name, retry)
    if key not in _tasks:
        _tasks[key] = task(fn, name=name, **_task_options(retry))
    return _tasks[key]


class PrefectRunner:
    """Steps as Prefect tasks of the current flow run."""

    def run(self, name: str, fn: Callable[..., T], *args: Any, retry: bool = True) -> T:
        return step_task(name, fn, retry)(*args)  # type: ignore[no-any-return]

    def run_concurrently(
        self, steps: Sequence[tuple[str, Callable[..., Any], tuple[Any, ...]]]
    ) -> list[Any]:
        futures = [step_task(name, fn).submit(*args) for name, fn, args in steps]
        return [f.result() for f in futures]

    def dbt_build(self, settings: Settings) -> DbtSummary:
        if settings.prefect_dbt_node_tasks:
            # Not a task: prefect-dbt makes one task per dbt node under this flow run.
            return run_dbt_build(settings, engine="prefect")
        # One task for the build: a task per node costs the server's bookkeeping for each
        # of ~300 nodes (a 30-learner run: 86 s instead of 26 s). A failed build is the
        # data's doing, so no retry.
        return self.run("dbt-build", run_dbt_build, settings, retry=False)


def ensure_concurrency_limit(limit: int = 1) -> None:
    """Create the global limit if missing; without it `concurrency()` would not limit at all."""
    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(CONCURRENCY_LIMIT, limit)
        except ObjectAlreadyExists:
            # Runs started together all read "missing" and race to create it: the loser's 409
            # means it exists now, so the upsert's update path sets the limit.
            client.upsert_global_concurrency_limit_by_name(CONCURRENCY_LIMIT, limit)


def _uses_temporary_server() -> bool:
    from prefect.settings import get_current_settings

    return not get_current_settings().api.url


def _release_stale_slots() -> None:
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(CONCURRENCY_LIMIT)
        if limit.active_slots:
            get_run_logger().warning(
                "releasing %s %s slot(s) left by a run that was killed",
                limit.active_slots,
                CONCURRENCY_LIMIT,
            )
            client.update_global_concurrency_limit(
                CONCURRENCY_LIMIT, GlobalConcurrencyLimitUpdate(active_slots=0)
            )


@contextmanager
def one_run_at_a_time(settings: Settings, wait: bool) -> Iterator[None]:
    """Hold the run lock beside the warehouse and the single `lmsbridge-sync` slot.

    The lock is what direct-mode runs and one-shot commands take too, so a served run and
    `lmsbridge build` never write the warehouse together. A temporary per-process Prefect
    server keeps concurrency leases in memory: a killed run leaves its slot counted as taken
    forever, so whoever holds the lock (hence knows no other run is alive) hands it back.
    """
    ensure_concurrency_limit()
    with run_lock(settings, wait):
        if _uses_temporary_server():
            _release_stale_slots()
        acquired = False
        try:
            with concurrency(
                CONCURRENCY_LIMIT, occupy=1, strict=True, max_retries=None if wait else 0
            ):
                acquired = True
                yield
        except Exception as exc:
            # Prefect reports a busy slot as a 423 HTTPStatusError (wrapped, depending on
            # the path); anything raised after acquisition is the pipeline's own error.
            if acquired or wait:
                raise
            raise RunSkipped("another lmsbridge run is in progress; this run was skipped") from exc


def mark_crashed_flow_runs(settings: Settings) -> int:
    """Flow runs of ours still RUNNING whose process is gone (per the run ledger) -> CRASHED.

    Never raises: correcting bookkeeping must not stop a run or `serve`.
    """
    try:
        ledger.mark_crashed(settings)
        stale = ledger.crashed_flow_runs_to_mark(settings)
        if not stale:
            return 0
        from prefect.states import Crashed

        marked = 0
        with get_client(sync_client=True) as client:
            for entry in stale:
                flow_run = client.read_flow_run(entry.flow_run_id)  # type: ignore[arg-type]
                if flow_run.state is not None and not flow_run.state.is_final():
                    client.set_flow_run_state(
                        flow_run.id,
                        Crashed(message=f"process {entry.pid} ended without reporting (killed?)"),
                        force=True,
                    )
                    marked += 1
                ledger.set_prefect_marked(settings, entry)
        if marked:
            log.warning("marked %s flow run(s) left RUNNING by a killed process as CRASHED", marked)
        return marked
    except Exception as exc:
        log.warning("could not mark killed flow runs as crashed: %s", type(exc).__name__)
        return 0


def _run(flow_name: str, wait_if_running: bool, direction: str | None = None) -> RunSummary:
    logger = get_run_logger()
    settings = load_settings()
    _install_redaction(settings)
    check_config(settings)
    summary = RunSummary(flow=flow_name, full=flow_name == RESYNC_FLOW, direction=direction)

    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    schedule = load_state(settings)
    if schedule.paused and getattr(flow_run, "deployment_id", None) is not None:
        summary.skipped = f"schedule paused ({schedule.reason}); run `lmsbridge resume`"
        logger.warning(summary.skipped)
        return summary

    mark_crashed_flow_runs(settings)
    try:
        with one_run_at_a_time(settings, wait_if_running):
            try:
                run_recorded(
                    settings,
                    summary,
                    PrefectRunner(),
                    mode="prefect",
                    flow_run_id=str(flow_run.id) if flow_run is not None else None,
                )
            finally:
                _artifact(settings, summary)
    except RunSkipped as exc:
        summary.skipped = str(exc)
        logger.warning(summary.skipped)
        return summary
    record_success(settings)
    return summary


def _artifact(settings: Settings, summary: RunSummary) -> None:
    from lmsbridge_core.redaction import redact

    create_markdown_artifact(
        key=summary.flow,
        markdown=redact(render_markdown(summary), settings.secrets()),
        description=f"{summary.flow}: rows landed, models built, tests, records sent/rejected, API calls",
    )


def _install_redaction(settings: Settings) -> None:
    from lmsbridge_core.redaction import install_redaction

    install_redaction(settings.secrets())


@flow(
    name=SYNC_FLOW,
    description="Extract LMS + HubSpot, dbt build, reverse-ETL to HubSpot, publish the BI snapshot.",
    on_failure=[on_flow_failure],
    on_crashed=[on_flow_failure],
)
def sync_flow(wait_if_running: bool = True) -> RunSummary:
    return _run(SYNC_FLOW, wait_if_running=wait_if_running)


@flow(
    name=RESYNC_FLOW,
    description="Re-extract everything (full=True) and re-send every row to HubSpot.",
    on_failure=[on_flow_failure],
    on_crashed=[on_flow_failure],
)
def full_resync_flow(wait_if_running: bool = True, direction: str | None = None) -> RunSummary:
    return _run(RESYNC_FLOW, wait_if_running=wait_if_running, direction=direction)
