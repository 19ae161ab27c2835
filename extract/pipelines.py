"""Entry points (docs/contracts.md section 5): one dlt pipeline per source, state beside the warehouse."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Literal

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.exceptions import PipelineStepFailed
from dlt.pipeline.trace import TRACE_FILE_NAME

from extract.csv_source import csv_source
from extract.hubspot_api import SEARCH_RATE, HubSpotApi
from extract.hubspot_source import hubspot_source
from extract.lms_api import LmsApi
from extract.lms_source import lms_source
from extract.result import ExtractError, ExtractResult, Progress, report
from lmsbridge_core.errors import find
from lmsbridge_core.redaction import install_redaction, redact
from lmsbridge_core.settings import Settings


class _QuietEmptyColumns(logging.Filter):
    """dlt warns, per load, about API fields that are always null (course images, coupons...).

    Those columns carry nothing the models read, so the warning is noise in every run's log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "did not receive any data during this load" not in record.getMessage()


logging.getLogger("dlt").addFilter(_QuietEmptyColumns())

# DuckDB takes one writer: extraction may run concurrently (LMS and HubSpot), loads take turns.
_LOAD_LOCK = threading.Lock()


def pipelines_dir(settings: Settings) -> Path:
    return settings.warehouse_path.resolve().parent / ".dlt_pipelines"


def make_pipeline(settings: Settings, name: str, dataset: str) -> dlt.Pipeline:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    pipeline = dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(credentials=str(settings.warehouse_path.resolve())),
        dataset_name=dataset,
        pipelines_dir=str(pipelines_dir(settings)),
    )
    # dlt pickles its last trace beside the state, with every failed step's exception text
    # and frames verbatim; a library exception may quote a header or body holding a
    # credential. Nothing reads the trace back (row counts come from normalize's return), so
    # it is not kept, and one left by an earlier version is removed.
    pipeline.config.enable_runtime_trace = False
    (Path(pipeline.working_dir) / TRACE_FILE_NAME).unlink(missing_ok=True)
    return pipeline


def run_source(
    settings: Settings,
    name: str,
    dataset: str,
    source: Any,
    progress: Progress | None,
    *,
    loader_file_format: Literal["jsonl", "insert_values"] | None = None,
) -> dict[str, int]:
    """Extract, normalize and load one source; rows normalized per table.

    The destination's preferred file format suits the API extract's increments; a bulk
    landing may ask for JSON load files.
    """
    pipeline = make_pipeline(settings, name, dataset)
    try:
        pipeline.extract(source, loader_file_format=loader_file_format)
        report(progress, f"{name}:normalize", 0, None)
        normalized = pipeline.normalize()
        rows = sum(n for t, n in normalized.row_counts.items() if not t.startswith("_dlt"))
        report(progress, f"{name}:normalize", rows, rows)
        with _LOAD_LOCK:
            report(progress, f"{name}:load", 0, rows)
            info: LoadInfo = pipeline.load()
        info.raise_on_failed_jobs()
        report(progress, f"{name}:load", rows, rows)
    except PipelineStepFailed as exc:
        typed = find(exc)
        if typed is not None:
            # Ours, from a client or a source: keep its type (exit code, retryability).
            raise typed from None
        cause = exc.exception
        raise ExtractError(
            redact(f"{name} {exc.step} failed: {type(cause).__name__}: {cause}", settings.secrets())
        ) from None
    return {t: int(n) for t, n in normalized.row_counts.items() if not t.startswith("_dlt")}


def run_lms(
    settings: Settings,
    *,
    full: bool = False,
    progress: Progress | None = None,
    rate: tuple[int, float] | None = None,
) -> ExtractResult:
    """LearnWorlds API + landed webhooks -> raw_lms.

    The client-side pace is `LMSBRIDGE_LMS_RATE_CALLS` per `LMSBRIDGE_LMS_RATE_WINDOW_S`;
    `rate` (calls, window seconds) overrides it for one call.
    """
    install_redaction(settings.secrets())
    started = time.monotonic()
    api = LmsApi(settings, rate=rate)
    sweep = settings.lms_profile_sweep_hours
    source = lms_source(
        api,
        settings.landing_dir,
        full=full,
        progress=progress,
        profile_sweep_s=None if sweep <= 0 else sweep * 3600,
    )
    rows = run_source(settings, "lmsbridge_lms", "raw_lms", source, progress)
    return ExtractResult("lms", rows, 0, api.counter.calls, time.monotonic() - started)


def run_hubspot(
    settings: Settings,
    *,
    full: bool = False,
    progress: Progress | None = None,
    search_rate: tuple[int, float] = SEARCH_RATE,
) -> ExtractResult:
    """HubSpot CRM -> raw_hubspot. Other calls pace themselves from HubSpot's rate headers;
    `search_rate` (calls, window seconds) paces search, which sends none."""
    install_redaction(settings.secrets())
    started = time.monotonic()
    api = HubSpotApi(settings, search_rate=search_rate)
    rows = run_source(
        settings,
        "lmsbridge_hubspot",
        "raw_hubspot",
        hubspot_source(api, full, progress),
        progress,
    )
    return ExtractResult("hubspot", rows, 0, api.counter.calls, time.monotonic() - started)


def run_csv(settings: Settings, *, progress: Progress | None = None) -> ExtractResult:
    """History CSVs in LMSBRIDGE_LMS_CSV_DIR -> raw_lms_files."""
    install_redaction(settings.secrets())
    started = time.monotonic()
    csv_dir = settings.require_csv_dir()
    rows = run_source(
        settings,
        "lmsbridge_lms_files",
        "raw_lms_files",
        csv_source(csv_dir, progress, max_field_bytes=settings.csv_max_field_bytes),
        progress,
    )
    return ExtractResult("csv", rows, rows.get("rejected_rows", 0), 0, time.monotonic() - started)
