"""The pipeline without Prefect: extract (concurrently) -> dbt build -> reverse ETL -> publish.

Steps go through a `StepRunner`. Under Prefect (flows/sync_flow.py) every step is a task with
retries and dbt runs through prefect-dbt; in direct mode (`DirectRunner`, what the CLI uses
unless a Prefect server is configured) the same retry policy is a plain loop and dbt runs
with its own runner, so a slow or absent Prefect API can never fail a run.
"""

from __future__ import annotations

import fcntl
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from flows import ledger
from flows.build_inputs import build_if_changed
from flows.dbt_step import DbtSummary, run_dbt_build
from flows.environment import ensure_folder
from flows.notify import handle_failure
from flows.progress import get_progress, tracked
from flows.publish import PublishResult, publish_snapshot
from flows.schedule_state import record_success
from flows.summary import RunSummary, to_record
from lmsbridge_core.errors import (
    BuildFailed,
    ConfigurationError,
    RunSkipped,
    SyncFailed,
    TransientError,
    classify,
    is_retryable,
)
from lmsbridge_core.settings import Settings

log = logging.getLogger("lmsbridge.pipeline")

T = TypeVar("T")

SYNC_FLOW = "lmsbridge-sync"
RESYNC_FLOW = "lmsbridge-full-resync"


@dataclass(frozen=True)
class RetryPolicy:
    """Whole-step retries, on top of the HTTP layer's in-call retries (its time budget)."""

    retries: int = 2
    delays_s: tuple[float, ...] = (10.0, 60.0)
    # Spread retries of concurrent steps so they do not hit an API in the same second.
    jitter_factor: float = 0.5

    def delay_s(self, failed_attempts: int, exc: BaseException | None = None) -> float:
        base = self.delays_s[min(failed_attempts, len(self.delays_s)) - 1]
        delay = base * random.uniform(1.0, 1.0 + self.jitter_factor)
        # An API that said when to come back is not asked earlier.
        err = classify(exc) if exc is not None else None
        if isinstance(err, TransientError) and err.retry_after_s:
            delay = max(delay, err.retry_after_s)
        return delay


RETRY = RetryPolicy()


class StepRunner(Protocol):
    def run(self, name: str, fn: Callable[..., T], *args: Any, retry: bool = True) -> T: ...

    def run_concurrently(
        self, steps: Sequence[tuple[str, Callable[..., Any], tuple[Any, ...]]]
    ) -> list[Any]: ...

    def dbt_build(self, settings: Settings) -> DbtSummary: ...


class DirectRunner:
    """Steps in this process: retries as a plain loop, concurrency with threads, dbt's runner."""

    def __init__(
        self,
        policy: RetryPolicy = RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.sleep = sleep
        self.attempts: dict[str, int] = {}

    def run(self, name: str, fn: Callable[..., T], *args: Any, retry: bool = True) -> T:
        failed = 0
        while True:
            self.attempts[name] = self.attempts.get(name, 0) + 1
            try:
                return fn(*args)
            except Exception as exc:
                if not (retry and failed < self.policy.retries and is_retryable(exc)):
                    raise
                failed += 1
                delay = self.policy.delay_s(failed, exc)
                log.warning(
                    "%s failed (%s: %s); retry %s of %s in %.0f s",
                    name,
                    type(exc).__name__,
                    exc,
                    failed,
                    self.policy.retries,
                    delay,
                )
                self.sleep(delay)

    def run_concurrently(
        self, steps: Sequence[tuple[str, Callable[..., Any], tuple[Any, ...]]]
    ) -> list[Any]:
        if not steps:
            return []
        with ThreadPoolExecutor(max_workers=len(steps), thread_name_prefix="lmsbridge") as pool:
            futures = [pool.submit(self.run, name, fn, *args) for name, fn, args in steps]
            # Every step finishes (no half-written source) before the first error is raised.
            errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error
        return [f.result() for f in futures]

    def dbt_build(self, settings: Settings) -> DbtSummary:
        return run_dbt_build(settings, engine="dbt", progress=get_progress())


# ---- steps (plain functions: the Prefect runner wraps each in a task) -------------------


def extract_lms(settings: Settings, full: bool) -> Any:
    import extract

    # Paced by LMSBRIDGE_LMS_RATE_CALLS / LMSBRIDGE_LMS_RATE_WINDOW_S.
    return extract.run_lms(settings, full=full, progress=get_progress())


def extract_hubspot(settings: Settings, full: bool) -> Any:
    import extract

    return extract.run_hubspot(settings, full=full, progress=get_progress())


def extract_csv(settings: Settings) -> Any:
    import extract

    return extract.run_csv(settings, progress=get_progress())


def publish(settings: Settings) -> PublishResult:
    return publish_snapshot(
        settings.warehouse_path, settings.published_warehouse_path, include_raw=settings.publish_raw
    )


def checked_sync_results(results: Sequence[Any]) -> list[Any]:
    """The sync results, or SyncFailed (carrying every result and each typed cause) if any
    sync stopped with an error, so a transient cause retries the step and the summary still
    reports every sync."""
    failed = [r for r in results if getattr(r, "status", "ok") == "error"]
    if not failed:
        return list(results)
    causes = [c for r in failed if (c := getattr(r, "cause", None)) is not None]
    error = SyncFailed("; ".join(f"sync {r.name}: {r.error}" for r in failed), causes=causes)
    error.results = list(results)  # type: ignore[attr-defined]
    raise error


def reverse_etl_syncs(
    settings: Settings, full: bool, direction: str | None = None, run_id: str | None = None
) -> list[Any]:
    """All syncs (see `checked_sync_results`). Safe to retry: rows HubSpot confirmed are in
    sync_state and are not sent again; field values both sides confirmed are in field_state."""
    import reverse_etl

    results = reverse_etl.run_syncs(
        settings,
        full=full,
        progress=tracked(settings.warehouse_path, get_progress()),
        resync=direction,  # type: ignore[arg-type]
        pipeline_run_id=run_id,
    )
    return checked_sync_results(results)


def extract_steps(
    settings: Settings, full: bool
) -> list[tuple[str, Callable[..., Any], tuple[Any, ...]]]:
    steps: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = []
    if settings.lms_base_url is not None:
        steps.append(("extract-lms", extract_lms, (settings, full)))
    steps.append(("extract-hubspot", extract_hubspot, (settings, full)))
    if settings.lms_csv_dir is not None:
        steps.append(("extract-csv", extract_csv, (settings,)))
    return steps


def run_pipeline(settings: Settings, summary: RunSummary, runner: StepRunner) -> None:
    # Started together so the LMS and HubSpot APIs are read at the same time.
    summary.extracts = runner.run_concurrently(extract_steps(settings, summary.full))
    log.info("extract landed %s rows", summary.rows_landed)
    try:
        # A full resync always builds; a scheduled run reuses a build whose inputs are unchanged.
        summary.dbt = build_if_changed(
            settings,
            lambda: runner.dbt_build(settings),
            reused=DbtSummary.reusing,
            always=summary.full,
        )
    except BuildFailed as exc:
        summary.dbt = getattr(exc, "summary", None)
        raise
    log.info("%s", summary.dbt.line)
    try:
        summary.syncs = runner.run(
            "reverse-etl",
            reverse_etl_syncs,
            settings,
            summary.full,
            summary.direction,
            summary.run_id,
        )
    except Exception as exc:
        if isinstance(exc, SyncFailed):
            summary.syncs = list(getattr(exc, "results", []))
        # The marts passed their tests, so BI gets them even when a sync failed.
        _publish_after_failure(settings, summary, runner)
        raise
    # Once per run, after the syncs: one copy carries this run's marts and its sync history.
    # A failed copy is not worth a retry: the next run publishes again.
    summary.published_path = str(
        runner.run("publish-snapshot", publish, settings, retry=False).path
    )


def _publish_after_failure(settings: Settings, summary: RunSummary, runner: StepRunner) -> None:
    """Publish while a sync error is on its way out; the sync's error stays the run's error."""
    try:
        summary.published_path = str(
            runner.run("publish-snapshot", publish, settings, retry=False).path
        )
    except Exception as exc:
        log.warning("BI snapshot not published: %s: %s", type(exc).__name__, exc)


def check_config(
    settings: Settings, *, hubspot: bool = True, lms: Literal["any", "api", "csv"] | None = "any"
) -> None:
    """Fail before any network call, naming the missing setting.

    Defaults check what a full run needs: the HubSpot token and at least one LMS source;
    one-source extracts ask for just that source (`hubspot=False`, `lms="api"`, ...).
    """
    if hubspot:
        settings.require_hubspot_token()
    has_api = settings.lms_base_url is not None
    if lms == "api" or (lms == "any" and has_api):
        settings.require_lms_api()
    if lms == "csv" or (lms == "any" and settings.lms_csv_dir is not None):
        settings.require_csv_dir()
    if lms == "any" and not has_api and settings.lms_csv_dir is None:
        raise ConfigurationError(
            "set LMSBRIDGE_LMS_BASE_URL (LearnWorlds API) or LMSBRIDGE_LMS_CSV_DIR (history CSVs)"
        )


@contextmanager
def run_lock(settings: Settings, wait: bool) -> Iterator[None]:
    """One run at a time: an OS lock beside the warehouse, released by the kernel even if the
    run is killed (so nothing stale is ever left to clean up). Raises RunSkipped when busy
    and `wait` is false."""
    folder = settings.warehouse_path.resolve().parent
    ensure_folder(folder, "the warehouse (LMSBRIDGE_WAREHOUSE_PATH)")
    with (folder / ".lmsbridge-run.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise RunSkipped("another lmsbridge run is in progress; this run was skipped") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _timed_pipeline(
    settings: Settings, summary: RunSummary, runner: StepRunner, entry: ledger.RunEntry
) -> None:
    """The pipeline under the ledger row `entry`: its id is the run id, and the run's summary
    is saved on the row whether the run succeeds or fails."""
    summary.run_id = entry.id
    summary.started_at = time.time()
    try:
        run_pipeline(settings, summary, runner)
    except BaseException as exc:
        summary.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        summary.finished_at = time.time()
        try:
            ledger.save_summary(settings, entry, to_record(summary))
        except Exception as exc:  # bookkeeping must never fail a run
            log.warning("run summary not saved in the run ledger: %s", exc)


def run_recorded(
    settings: Settings,
    summary: RunSummary,
    runner: StepRunner,
    *,
    mode: str,
    flow_run_id: str | None = None,
) -> None:
    """The pipeline with a run-ledger row and the summary's timings and error."""
    with ledger.recorded(settings, summary.flow, mode, flow_run_id) as entry:
        _timed_pipeline(settings, summary, runner, entry)


def run_direct(
    settings: Settings,
    flow_name: str = SYNC_FLOW,
    *,
    wait_if_running: bool = True,
    runner: StepRunner | None = None,
    direction: str | None = None,
) -> RunSummary:
    """One full pass in this process, no Prefect: what `lmsbridge run` / `resync` do unless a
    Prefect server is configured. Raises the pipeline's error after recording it."""
    check_config(settings)
    summary = RunSummary(flow=flow_name, full=flow_name == RESYNC_FLOW, direction=direction)
    entries: list[ledger.RunEntry] = []
    try:
        with (
            run_lock(settings, wait_if_running),
            ledger.recorded(settings, flow_name, "direct") as entry,
        ):
            entries.append(entry)
            _timed_pipeline(settings, summary, runner or DirectRunner(), entry)
    except RunSkipped as exc:
        summary.skipped = str(exc)
        return summary
    except Exception as exc:
        # Same bookkeeping as the flow's failure hook: webhook, failure streak, pause.
        handle_failure(settings, flow_name, entries[0] if entries else None, exc, "")
        raise
    record_success(settings)
    return summary


@contextmanager
def one_shot(
    settings: Settings, command: str, *, record: bool = True
) -> Iterator[ledger.RunEntry | None]:
    """`extract`, `build`, `sync`: wait for any run in progress (DuckDB has one writer) and
    leave a ledger row (yielded, None when not recorded) so `status` shows them."""
    with run_lock(settings, wait=True):
        if not record:
            yield None
            return
        with ledger.recorded(settings, command, "direct") as entry:
            yield entry
