"""`lmsbridge`: run the pipeline, or one step of it, from a terminal or a script.

Exit codes: 0 ok, 1 run failed, 2 bad usage or configuration, 3 authentication failure,
4 an API could not be reached.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError

import flows  # noqa: F401  (sets Prefect's environment before Prefect is imported)
from flows.console import console, err_console, progress_bars
from flows.errors import ConfigError, ExitCode, exit_code_for
from lmsbridge_core.settings import Settings, load_settings

app = typer.Typer(
    name="lmsbridge",
    help="LMS-to-CRM revenue pipeline: LearnWorlds + HubSpot -> DuckDB -> dbt -> HubSpot.\n\n"
    "Configure with LMSBRIDGE_* environment variables or a .env file. "
    "Exit codes: 0 ok, 1 run failed, 2 bad usage/config, 3 auth failure, 4 API unreachable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
sandbox_app = typer.Typer(help="Local HubSpot and LearnWorlds emulators.", no_args_is_help=True)
webhooks_app = typer.Typer(help="LearnWorlds webhook receiver.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(webhooks_app, name="webhooks")

_state: dict[str, Any] = {"debug": False, "secrets": []}


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show full tracebacks (secrets still redacted).")
    ] = False,
) -> None:
    _state["debug"] = debug or os.environ.get("LMSBRIDGE_DEBUG") == "1"


def _fail(code: ExitCode, message: str) -> NoReturn:
    from lmsbridge_core.redaction import redact

    err_console.print(f"[bold red]error:[/] {redact(message, _state['secrets'])}", highlight=False)
    raise typer.Exit(int(code))


def _config_message(exc: ValidationError) -> str:
    # Our own wording from the error locations: pydantic's text would echo input values.
    parts = [
        f"LMSBRIDGE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
        for err in exc.errors()
    ]
    return "invalid configuration: " + "; ".join(parts)


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ValidationError as exc:
        _fail(ExitCode.BAD_CONFIG, _config_message(exc))
    from lmsbridge_core.redaction import install_redaction

    _state["secrets"] = settings.secrets()
    install_redaction(settings.secrets())
    return settings


@contextmanager
def _guard(what: str) -> Iterator[None]:
    """Turn known failures into one line and the documented exit code."""
    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        _fail(ExitCode.RUN_FAILED, f"{what} interrupted")
    except ValidationError as exc:
        _fail(ExitCode.BAD_CONFIG, _config_message(exc))
    except Exception as exc:
        if _state["debug"]:
            raise
        code = exit_code_for(exc)
        hint = {
            ExitCode.BAD_CONFIG: "",
            ExitCode.AUTH_FAILED: " (check the HubSpot token / LMS client credentials)",
            ExitCode.UNREACHABLE: " (is the API URL right and reachable?)",
        }.get(code, " (rerun with --debug for the traceback)")
        _fail(code, f"{what} failed: {_describe(exc)}{hint}")


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if isinstance(exc, ConfigError) else f"{type(exc).__name__}: {text}"


def _run_flow(flow_fn: Callable[..., Any], what: str, skip_if_running: bool) -> None:
    settings = _settings()
    from flows.console import quiet_console_tracebacks
    from flows.runtime import set_progress
    from flows.sync_flow import check_config

    with _guard(what):
        check_config(settings)
    if not _state["debug"]:
        quiet_console_tracebacks()
    with _guard(what), progress_bars() as bars:
        set_progress(bars)
        try:
            summary = flow_fn(wait_if_running=not skip_if_running)
        finally:
            set_progress(None)
    from flows.summary import render_markdown

    if summary.skipped:
        console.print(f"[yellow]skipped:[/] {summary.skipped}")
        return
    from rich.markdown import Markdown

    console.print(Markdown(render_markdown(summary)))


_SKIP_HELP = "If another run is in progress, exit at once (code 0) instead of waiting for it."


@app.command()
def run(
    skip_if_running: Annotated[bool, typer.Option("--skip-if-running", help=_SKIP_HELP)] = False,
) -> None:
    """One full pass: extract -> dbt build -> publish snapshot -> reverse ETL (flow lmsbridge-sync)."""
    from flows.sync_flow import sync_flow

    _run_flow(sync_flow, "run", skip_if_running)


@app.command()
def resync(
    skip_if_running: Annotated[bool, typer.Option("--skip-if-running", help=_SKIP_HELP)] = False,
) -> None:
    """Re-extract everything and re-send every row (flow lmsbridge-full-resync)."""
    from flows.sync_flow import full_resync_flow

    _run_flow(full_resync_flow, "resync", skip_if_running)


class Source(StrEnum):
    all = "all"
    lms = "lms"
    hubspot = "hubspot"
    csv = "csv"


@app.command("extract")
def extract_cmd(
    source: Annotated[Source, typer.Argument(help="Which source to land.")] = Source.all,
    full: Annotated[bool, typer.Option("--full", help="Backfill instead of incremental.")] = False,
) -> None:
    """Land raw data into the warehouse (no dbt, no reverse ETL)."""
    settings = _settings()
    from rich.table import Table

    import extract

    chosen = [Source.lms, Source.hubspot, Source.csv] if source == Source.all else [source]
    if source == Source.all:
        chosen = [
            s
            for s in chosen
            if not (s == Source.lms and settings.lms_base_url is None)
            and not (s == Source.csv and settings.lms_csv_dir is None)
        ]
    table = Table("source", "rows", "rejected", "API calls", "seconds", title="extract")
    with _guard("extract"), progress_bars() as bars:
        for s in chosen:
            if s == Source.lms:
                result = extract.run_lms(settings, full=full, progress=bars)
            elif s == Source.hubspot:
                result = extract.run_hubspot(settings, full=full, progress=bars)
            else:
                if settings.lms_csv_dir is None:
                    raise ConfigError("LMSBRIDGE_LMS_CSV_DIR is not set")
                result = extract.run_csv(settings, progress=bars)
            table.add_row(
                result.source,
                f"{sum(result.rows_by_table.values()):,}",
                str(result.rejected),
                str(result.api_calls),
                f"{result.duration_s:.1f}",
            )
    console.print(table)


@app.command()
def build(
    select: Annotated[
        str | None, typer.Option("--select", "-s", help="dbt node selection.")
    ] = None,
    publish: Annotated[
        bool, typer.Option("--publish/--no-publish", help="Swap in a new BI snapshot after.")
    ] = True,
) -> None:
    """dbt build (seeds, models, tests); publishes the BI snapshot when everything passed."""
    settings = _settings()
    from flows.dbt_step import run_dbt_build
    from flows.publish import publish_snapshot

    with _guard("dbt build"):
        summary = run_dbt_build(settings, select=select)
        console.print(
            f"dbt: {summary.models_built} models built, {summary.tests_passed} tests passed, "
            f"{summary.seeds_loaded} seeds loaded"
        )
        if publish:
            result = publish_snapshot(settings.warehouse_path, settings.published_warehouse_path)
            console.print(f"published {result.path} ({result.tables} tables)")


@app.command()
def sync(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; write nothing.")
    ] = False,
    only: Annotated[str | None, typer.Option("--only", help="Run one sync by name.")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore sync state and send every row.")
    ] = False,
) -> None:
    """Reverse ETL only: push the marts to HubSpot (reads the last dbt build)."""
    settings = _settings()
    from rich.table import Table

    import reverse_etl

    with _guard("sync"), progress_bars() as bars:
        results = reverse_etl.run_syncs(
            settings, dry_run=dry_run, only=only, full=full, progress=bars
        )
    table = Table(
        "sync", "planned", "sent", "succeeded", "rejected", "unchanged", "calls", "429s",
        title="dry run: nothing written" if dry_run else "reverse ETL",
    )  # fmt: skip
    for r in results:
        table.add_row(
            r.name,
            *(
                str(getattr(r, k))
                for k in (
                    "planned",
                    "sent",
                    "succeeded",
                    "rejected",
                    "unchanged",
                    "calls",
                    "status_429",
                )
            ),
        )
    console.print(table)
    if dry_run:
        for r in results:
            if r.plan is not None:
                console.rule(r.name)
                console.print(r.plan)
    if any(r.rejected for r in results) and not dry_run:
        console.print("[yellow]some rows were rejected:[/] see `lmsbridge status`")
    failed = [r for r in results if getattr(r, "status", "ok") == "error"]
    if failed:
        from flows.errors import SyncFailed

        exc = SyncFailed("; ".join(f"sync {r.name}: {r.error}" for r in failed))
        _fail(exit_code_for(exc), str(exc))


@app.command()
def status(
    limit: Annotated[int, typer.Option(help="How many recent sync runs to show.")] = 10,
) -> None:
    """Recent sync runs, rejected rows and the schedule (next runs, paused or not)."""
    settings = _settings()
    from flows.status import print_status

    with _guard("status"):
        print_status(settings, console, limit=limit)


@app.command()
def serve() -> None:
    """Serve the deployments: lmsbridge-sync on LMSBRIDGE_SCHEDULE_CRON, full resync on demand."""
    settings = _settings()
    from flows.serve import serve_deployments

    with _guard("serve"):
        serve_deployments(settings)


@app.command()
def resume() -> None:
    """Un-pause the schedule after an auth failure or a failure streak was fixed."""
    settings = _settings()
    from flows.serve import resume_schedule

    with _guard("resume"):
        message = resume_schedule(settings)
    console.print(message)


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")] = Path(
        "reports/lmsbridge.html"
    ),
    docs: Annotated[
        bool, typer.Option("--docs/--no-docs", help="Also generate dbt docs and link them.")
    ] = True,
) -> None:
    """Static self-contained HTML report from the published BI snapshot."""
    settings = _settings()
    from flows.report import write_report

    with _guard("report"):
        path = write_report(settings, out, with_dbt_docs=docs)
    console.print(f"report written to {path}")


@sandbox_app.command("up")
def sandbox_up(
    learners: Annotated[int, typer.Option(help="Learners to generate.", min=10)] = 2000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    workdir: Annotated[Path, typer.Option(help="Where the dataset is written.")] = Path(
        "warehouse/sandbox"
    ),
) -> None:
    """Generate a dataset and serve both emulators until Ctrl-C."""
    from sandbox.runner import serve_forever

    with _guard("sandbox"):
        try:
            serve_forever(learners, seed, workdir, console.print)
        except KeyboardInterrupt:
            console.print("sandbox stopped")


@webhooks_app.command("serve")
def webhooks_serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Receive LearnWorlds webhooks (signature-verified) into the landing dir for the next extract."""
    settings = _settings()
    from extract.webhooks import serve as serve_webhooks

    with _guard("webhooks serve"):
        serve_webhooks(settings, host=host, port=port)
