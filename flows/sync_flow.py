"""The two Prefect flows: `lmsbridge-sync` (incremental) and `lmsbridge-full-resync`.

extract (LMS, HubSpot, CSV concurrently) -> dbt build -> publish snapshot -> reverse ETL,
one run at a time through the global concurrency limit `lmsbridge-sync`.
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
from prefect.context import get_run_context

from flows.dbt_step import run_dbt_build
from flows.errors import ConfigError, DbtBuildFailed, RunSkipped, SyncFailed, is_transient
from flows.notify import on_flow_failure
from flows.publish import PublishResult, publish_snapshot
from flows.runtime import get_lms_rate, get_progress
from flows.schedule_state import load_state, record_success
from flows.summary import RunSummary, render_markdown
from lmsbridge_core.settings import Settings, load_settings

CONCURRENCY_LIMIT = "lmsbridge-sync"
# Backoff between task attempts; the HTTP layer already retried each call a few times.
RETRY_DELAYS = [10, 60]


def _retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as exc:
        return is_transient(exc)
    return False


_task_options: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": _retry_if_transient,
    # Settings hold secrets: never hash or persist task inputs.
    "cache_policy": NO_CACHE,
}


@task(name="extract-lms", **_task_options)
def extract_lms(settings: Settings, full: bool) -> Any:
    import extract

    rate = get_lms_rate()
    extra = {"rate": rate} if rate is not None else {}
    return extract.run_lms(settings, full=full, progress=get_progress(), **extra)


@task(name="extract-hubspot", **_task_options)
def extract_hubspot(settings: Settings, full: bool) -> Any:
    import extract

    return extract.run_hubspot(settings, full=full, progress=get_progress())


@task(name="extract-csv", **_task_options)
def extract_csv(settings: Settings) -> Any:
    import extract

    return extract.run_csv(settings, progress=get_progress())


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def publish(settings: Settings) -> PublishResult:
    return publish_snapshot(settings.warehouse_path, settings.published_warehouse_path)


@task(name="reverse-etl", **_task_options)
def reverse_etl_syncs(settings: Settings, full: bool) -> list[Any]:
    import reverse_etl

    # Safe to retry: rows HubSpot confirmed are in sync_state and are not sent again.
    return reverse_etl.run_syncs(settings, full=full, progress=get_progress())


def check_config(settings: Settings) -> None:
    """Fail before any network call, naming the missing setting."""
    if (
        settings.hubspot_access_token is None
        or not settings.hubspot_access_token.get_secret_value()
    ):
        raise ConfigError("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN is not set")
    lms_api = settings.lms_base_url is not None
    if lms_api and not (settings.lms_client_id and settings.lms_client_secret):
        raise ConfigError(
            "LMSBRIDGE_LMS_BASE_URL is set but LMSBRIDGE_LMS_CLIENT_ID / LMSBRIDGE_LMS_CLIENT_SECRET are not"
        )
    if not lms_api and settings.lms_csv_dir is None:
        raise ConfigError(
            "set LMSBRIDGE_LMS_BASE_URL (LearnWorlds API) or LMSBRIDGE_LMS_CSV_DIR (history CSVs)"
        )
    if settings.lms_csv_dir is not None and not settings.lms_csv_dir.is_dir():
        raise ConfigError(f"LMSBRIDGE_LMS_CSV_DIR={settings.lms_csv_dir} is not a directory")


def ensure_concurrency_limit(limit: int = 1) -> None:
    """Create the global limit if missing; without it `concurrency()` would not limit at all."""
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(CONCURRENCY_LIMIT, limit)


def _uses_temporary_server() -> bool:
    from prefect.settings import get_current_settings

    return not get_current_settings().api.url


@contextmanager
def _run_lock(settings: Settings, wait: bool) -> Iterator[None]:
    """An OS lock beside the warehouse, released by the kernel even if the run is killed.

    Without a Prefect server each process starts a temporary one that keeps concurrency
    leases in memory, so a killed run leaves the slot counted as taken in Prefect's database
    and nothing ever expires it. Whoever holds this lock knows no other run is alive and can
    hand such a slot back.
    """
    path = settings.warehouse_path.resolve().parent / ".lmsbridge-run.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise RunSkipped("another lmsbridge run is in progress; this run was skipped") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    """Hold the single `lmsbridge-sync` slot; wait for it, or raise RunSkipped at once.

    With a Prefect server the global concurrency limit does the work (its lease expires if
    a run dies); with temporary per-process servers the run lock guards the same slot.
    """
    ensure_concurrency_limit()
    with ExitStack() as stack:
        if _uses_temporary_server():
            stack.enter_context(_run_lock(settings, wait))
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


def _pipeline(settings: Settings, summary: RunSummary) -> None:
    logger = get_run_logger()
    # Submitted together so the LMS and HubSpot APIs are read at the same time.
    futures = []
    if settings.lms_base_url is not None:
        futures.append(extract_lms.submit(settings, summary.full))
    futures.append(extract_hubspot.submit(settings, summary.full))
    if settings.lms_csv_dir is not None:
        futures.append(extract_csv.submit(settings))
    summary.extracts = [f.result() for f in futures]
    logger.info("extract landed %s rows", summary.rows_landed)

    # Not a task: prefect-dbt makes one task per dbt node under this flow run.
    try:
        summary.dbt = run_dbt_build(settings)
    except DbtBuildFailed as exc:
        summary.dbt = getattr(exc, "summary", None)
        raise
    logger.info(
        "dbt: %s models built, %s tests passed", summary.dbt.models_built, summary.dbt.tests_passed
    )
    published = publish(settings)
    summary.published_path = str(published.path)

    summary.syncs = reverse_etl_syncs(settings, summary.full)
    # Publish again so BI and the report also see this run's sync history.
    publish(settings)
    failed = [s for s in summary.syncs if getattr(s, "status", "ok") == "error"]
    if failed:
        raise SyncFailed("; ".join(f"sync {s.name}: {s.error}" for s in failed))


def _run(flow_name: str, full: bool, wait_if_running: bool) -> RunSummary:
    logger = get_run_logger()
    settings = load_settings()
    _install_redaction(settings)
    check_config(settings)
    summary = RunSummary(flow=flow_name, full=full)

    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    schedule = load_state(settings)
    if schedule.paused and getattr(flow_run, "deployment_id", None) is not None:
        summary.skipped = f"schedule paused ({schedule.reason}); run `lmsbridge resume`"
        logger.warning(summary.skipped)
        return summary

    try:
        with one_run_at_a_time(settings, wait_if_running):
            summary.started_at = time.time()
            try:
                _pipeline(settings, summary)
            except Exception as exc:
                summary.error = f"{type(exc).__name__}: {exc}"
                raise
            finally:
                summary.finished_at = time.time()
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
    name="lmsbridge-sync",
    description="Extract LMS + HubSpot, dbt build, publish the BI snapshot, reverse-ETL to HubSpot.",
    on_failure=[on_flow_failure],
    on_crashed=[on_flow_failure],
)
def sync_flow(wait_if_running: bool = True) -> RunSummary:
    return _run("lmsbridge-sync", full=False, wait_if_running=wait_if_running)


@flow(
    name="lmsbridge-full-resync",
    description="Re-extract everything (full=True) and re-send every row to HubSpot.",
    on_failure=[on_flow_failure],
    on_crashed=[on_flow_failure],
)
def full_resync_flow(wait_if_running: bool = True) -> RunSummary:
    return _run("lmsbridge-full-resync", full=True, wait_if_running=wait_if_running)
