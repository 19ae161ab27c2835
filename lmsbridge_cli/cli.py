"""`lmsbridge`: run the pipeline, or one step of it, from a terminal or a script.

Exit codes: 0 ok, 1 run failed, 2 bad usage or configuration, 3 authentication failure,
4 an API could not be reached, 5 `verify` found drift. One-shot commands run in this
process without Prefect; `run` / `resync` use the Prefect flow only when a Prefect server is configured
(PREFECT_API_URL), and `serve` always does.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer
from typer.core import TyperGroup

from lmsbridge_cli.console import console, err_console, progress_bars
from lmsbridge_core.errors import (
    ConfigurationError,
    ExitCode,
    LmsbridgeError,
    classify,
    exit_code_for,
)

# Start-up: `lmsbridge --help` imports only typer, rich and lmsbridge_core.errors. Everything
# heavier (pydantic settings, duckdb, dlt, dbt, Prefect, httpx) is imported by the command
# that uses it; tests/flows/test_cli_imports.py fails if one comes back to module level.
if TYPE_CHECKING:
    from pydantic import ValidationError

    from flows.summary import RunSummary
    from lmsbridge_core.settings import Settings


class _PlainUsageErrors(TyperGroup):
    """Usage errors as click prints them: usage, then the problem on one `Error:` line.

    Typer's default draws the problem in a box that wraps a long message over several lines,
    which scripts cannot grep like every other failure's one line.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(
                args, prog_name, complete_var, standalone_mode, windows_expand_args, **extra
            )
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except typer.Abort:
            err_console.print("Aborted!", highlight=False)
            sys.exit(1)
        except Exception as exc:
            # Click's exceptions (typer vendors click, so matched by their interface).
            show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
            if not callable(show) or not isinstance(exit_code, int):
                raise
            if type(exc).__name__ != "NoArgsIsHelpError":  # its help is already printed
                show()
            sys.exit(exit_code)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=_PlainUsageErrors,
    name="lmsbridge",
    help="LMS-to-CRM revenue pipeline: LearnWorlds + HubSpot -> DuckDB -> dbt -> HubSpot.\n\n"
    "Configure with LMSBRIDGE_* environment variables or a .env file. "
    "Exit codes: 0 ok, 1 run failed, 2 bad usage/config, 3 auth failure, 4 API unreachable, 5 verify found drift.",
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

    # soft_wrap: one line however long (scripts grep it; the terminal wraps it for people).
    err_console.print(
        f"[bold red]error:[/] {redact(message, _state['secrets'])}",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(int(code))


def _config_message(exc: ValidationError) -> str:
    # Our own wording from the error locations: pydantic's text would echo input values.
    parts = [
        f"LMSBRIDGE_{'_'.join(str(p) for p in err['loc']).upper()}: "
        + err["msg"].removeprefix("Value error, ")
        for err in exc.errors()
    ]
    return "invalid configuration: " + "; ".join(parts)


def _settings() -> Settings:
    from pydantic import ValidationError

    from flows.environment import check_warehouse_path, quiet_tools
    from lmsbridge_core.settings import load_settings

    quiet_tools()
    try:
        settings = load_settings()
    except ValidationError as exc:
        _fail(ExitCode.BAD_CONFIG, _config_message(exc))
    except ConfigurationError as exc:  # a .env that cannot be read names its file and line
        _fail(ExitCode.BAD_CONFIG, str(exc))
    from lmsbridge_core.redaction import install_redaction

    _state["secrets"] = settings.secrets()
    install_redaction(settings.secrets())
    with _guard("configuration"):
        check_warehouse_path(settings)
    return settings


def _log_to_console(settings: Settings | None = None) -> None:
    """Without Prefect nothing configures logging: show retries and warnings on stderr; the
    full log (INFO) goes to the run log file beside the warehouse."""
    from rich.logging import RichHandler

    root = logging.getLogger()
    if not any(isinstance(h, RichHandler) for h in root.handlers):
        handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
        root.addHandler(handler)
    for handler in root.handlers:
        if isinstance(handler, RichHandler):
            handler.setLevel(logging.INFO if _state["debug"] else logging.WARNING)
    root.setLevel(logging.INFO if _state["debug"] else logging.WARNING)
    if settings is not None:
        from flows.run_log import log_to_file

        log_to_file(settings)
    if not _state["debug"]:
        from lmsbridge_cli.console import quiet_log_tracebacks

        quiet_log_tracebacks()


@contextmanager
def _guard(what: str) -> Iterator[None]:
    """Turn known failures into one line and the documented exit code (also with --debug,
    which adds the traceback before that line)."""
    from pydantic import ValidationError

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
            from lmsbridge_core.redaction import redact

            err_console.print(
                redact(traceback.format_exc(), _state["secrets"]), markup=False, highlight=False
            )
        code = exit_code_for(exc)
        if isinstance(classify(exc), ConfigurationError):
            _fail(code, _describe(exc))  # names the setting; "<command> failed" adds nothing
        hint = {
            ExitCode.BAD_CONFIG: "",
            ExitCode.AUTH_FAILED: " (check the HubSpot token / LMS client credentials)",
            ExitCode.UNREACHABLE: " (is the API URL right and reachable?)",
        }.get(code, "" if _state["debug"] else " (rerun with --debug for the traceback)")
        _fail(code, f"{what} failed: {_describe(exc)}{hint}")


def _describe(exc: BaseException) -> str:
    """Our own error's message (written for operators), else the type and text."""
    ours = classify(exc)
    if isinstance(ours, ConfigurationError):
        return str(ours)
    if isinstance(ours, LmsbridgeError) and str(ours).strip():
        return f"{type(ours).__name__}: {str(ours).strip()}"
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _run_pipeline(
    flow_name: str, what: str, skip_if_running: bool, direction: str | None = None
) -> None:
    from flows.environment import configure_prefect, prefect_server_configured
    from flows.pipeline import check_config, run_direct
    from flows.progress import set_progress

    settings = _settings()
    with _guard(what):
        check_config(settings)
    flow_fn: Callable[..., RunSummary] | None = None
    if prefect_server_configured():
        with _guard(what):
            from flows.run_log import log_to_file, quiet_console_env

            quiet_console_env(debug=_state["debug"])
            configure_prefect(settings)
            # Imported only now: Prefect reads part of its environment at import.
            from flows.sync_flow import full_resync_flow, sync_flow

            flow_fn = (
                sync_flow
                if flow_name == "lmsbridge-sync"
                else functools.partial(full_resync_flow, direction=direction)
            )
        if not _state["debug"]:
            from lmsbridge_cli.console import quiet_log_tracebacks

            quiet_log_tracebacks()
        log_to_file(settings)
    else:
        _log_to_console(settings)
    with _guard(what), progress_bars() as bars:
        set_progress(bars)
        try:
            if flow_fn is not None:
                summary = flow_fn(wait_if_running=not skip_if_running)
            else:
                summary = run_direct(
                    settings,
                    flow_name,
                    wait_if_running=not skip_if_running,
                    direction=direction,
                )
        finally:
            set_progress(None)
    from flows.summary import render_markdown

    if summary.skipped:
        console.print(f"[yellow]skipped:[/] {summary.skipped}")
        return
    from rich.markdown import Markdown

    console.print(Markdown(render_markdown(summary)))
    from flows.run_log import log_path

    console.print(f"full log: {log_path(settings)}", highlight=False, soft_wrap=True)


_SKIP_HELP = "If another run is in progress, exit at once (code 0) instead of waiting for it."


@app.command()
def run(
    skip_if_running: Annotated[bool, typer.Option("--skip-if-running", help=_SKIP_HELP)] = False,
) -> None:
    """One full pass: extract -> dbt build -> reverse ETL -> publish snapshot (lmsbridge-sync)."""
    _run_pipeline("lmsbridge-sync", "run", skip_if_running)


class Direction(StrEnum):
    to_hubspot = "to-hubspot"
    to_lms = "to-lms"
    both = "both"


@app.command()
def resync(
    skip_if_running: Annotated[bool, typer.Option("--skip-if-running", help=_SKIP_HELP)] = False,
    direction: Annotated[
        Direction | None,
        typer.Option(
            "--direction",
            help="Also align every mapped field (syncs.yml field_mappings) this way: the LMS "
            "value to HubSpot, the HubSpot value to the LMS, or each by its mapping's winner.",
        ),
    ] = None,
) -> None:
    """Re-extract everything and re-send every row (lmsbridge-full-resync)."""
    way = direction.value.replace("-", "_") if direction is not None else None
    _run_pipeline("lmsbridge-full-resync", "resync", skip_if_running, way)


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

    from flows import pipeline
    from flows.progress import set_progress

    steps = {
        Source.lms: ("extract-lms", pipeline.extract_lms, (settings, full)),
        Source.hubspot: ("extract-hubspot", pipeline.extract_hubspot, (settings, full)),
        Source.csv: ("extract-csv", pipeline.extract_csv, (settings,)),
    }
    with _guard("extract"):
        if source == Source.all:
            pipeline.check_config(settings)
            chosen = pipeline.extract_steps(settings, full)
        else:
            lms: Literal["api", "csv"] | None = (
                "api" if source == Source.lms else "csv" if source == Source.csv else None
            )
            pipeline.check_config(settings, hubspot=source == Source.hubspot, lms=lms)
            chosen = [steps[source]]
    _log_to_console(settings)
    table = Table("source", "rows", "rejected", "API calls", "seconds", title="extract")
    with _guard("extract"), progress_bars() as bars:
        set_progress(bars)
        try:
            with pipeline.one_shot(settings, f"extract {source.value}"):
                results = pipeline.DirectRunner().run_concurrently(chosen)
        finally:
            set_progress(None)
    for result in results:
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
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Also run the dbt unit tests (checks of the models' logic; CI runs them, "
            "scheduled runs skip them).",
        ),
    ] = False,
    if_changed: Annotated[
        bool,
        typer.Option(
            "--if-changed",
            help="Skip the build when its inputs (raw tables, dbt project, settings) are those "
            "of the last successful build, as scheduled runs do.",
        ),
    ] = False,
) -> None:
    """dbt build (seeds, models, data tests); publishes the BI snapshot when everything passed."""
    settings = _settings()
    from flows.build_inputs import build_if_changed
    from flows.dbt_step import DbtSummary, run_dbt_build
    from flows.pipeline import one_shot
    from flows.publish import publish_snapshot

    if select and if_changed:
        _fail(ExitCode.BAD_CONFIG, "--if-changed compares whole builds; drop --select")
    _log_to_console(settings)
    with _guard("dbt build"), progress_bars() as bars, one_shot(settings, "build"):

        def build() -> DbtSummary:
            return run_dbt_build(
                settings, select=select, engine="dbt", progress=bars, unit_tests=full
            )

        # A whole build leaves the record that lets the next scheduled run skip its own.
        summary = (
            build()
            if select
            else build_if_changed(
                settings,
                build,
                reused=DbtSummary.reusing,
                always=not if_changed,
            )
        )
        if summary.reused_build_at:
            console.print(summary.line)
            return
        if select and not (
            summary.models_built
            or summary.seeds_loaded
            or summary.tests_passed
            or summary.tests_failed
            or summary.tests_warned
            or summary.skipped
        ):
            # dbt only warns "nothing to do": a mistyped selection would look like success.
            _fail(ExitCode.BAD_CONFIG, f"--select {select} matches no dbt node; nothing built")
        console.print(
            f"dbt: {summary.models_built} models built, {summary.tests_passed} tests passed, "
            f"{summary.seeds_loaded} seeds loaded"
        )
        if publish:
            result = publish_snapshot(
                settings.warehouse_path,
                settings.published_warehouse_path,
                include_raw=settings.publish_raw,
            )
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
    details: Annotated[
        bool, typer.Option("--details", help="With --dry-run: list every change on screen.")
    ] = False,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="With --dry-run: write every planned change to this CSV."),
    ] = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair", help="Read HubSpot back; re-send values and records changed there by hand."
        ),
    ] = False,
) -> None:
    """Reverse ETL only: push the marts to HubSpot (reads the last dbt build)."""
    settings = _settings()
    import reverse_etl
    from flows import ledger
    from flows.pipeline import DirectRunner, checked_sync_results, one_shot
    from flows.progress import tracked
    from flows.summary import RunSummary, render_markdown, to_record
    from lmsbridge_core.errors import SyncFailed

    if (details or csv_out is not None) and not dry_run:
        _fail(ExitCode.BAD_CONFIG, "--details and --csv go with --dry-run")
    _log_to_console(settings)
    failure: SyncFailed | None = None
    summary = RunSummary(flow="sync")

    # Failed syncs come back as results; the runner retries the whole call when their cause
    # is transient (rows HubSpot confirmed are not sent again).
    def attempt(bars: Any) -> list[Any]:
        return checked_sync_results(
            reverse_etl.run_syncs(
                settings,
                dry_run=dry_run,
                only=only,
                full=full,
                repair=repair,
                progress=bars if dry_run else tracked(settings.warehouse_path, bars),
                pipeline_run_id=summary.run_id,
            )
        )

    with (
        _guard("sync"),
        progress_bars() as bars,
        one_shot(settings, "sync", record=not dry_run) as entry,
    ):
        summary.run_id = entry.id if entry is not None else None
        summary.started_at = time.time()
        try:
            summary.syncs = DirectRunner().run("reverse-etl", attempt, bars, retry=not dry_run)
        except SyncFailed as exc:
            failure = exc
            summary.syncs = list(getattr(exc, "results", []))
            summary.error = str(exc)
        summary.finished_at = time.time()
        if entry is not None:
            ledger.save_summary(settings, entry, to_record(summary))
    if dry_run:
        from lmsbridge_cli.dry_run import print_dry_run

        console.rule("dry run: nothing written")
        with _guard("dry run"):
            print_dry_run(settings, summary.syncs, console, details=details, csv_path=csv_out)
    else:
        from rich.markdown import Markdown

        console.print(Markdown(render_markdown(summary)))
    if failure is not None:
        _fail(exit_code_for(failure), f"sync failed: {failure}")


@app.command()
def status(
    limit: Annotated[int, typer.Option(help="How many recent runs to show.", min=1)] = 10,
) -> None:
    """Recent runs (crashed ones too), sync runs, rejected rows and the schedule."""
    settings = _settings()
    from lmsbridge_cli.status import print_status

    with _guard("status"):
        print_status(settings, console, limit=limit)


@app.command()
def verify(
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="Verify one sync by name (fields_to_hubspot / fields_to_lms: mapped fields).",
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="How many drifted records to list.", min=1)] = 30,
) -> None:
    """Read back what we wrote to HubSpot and compare it with what HubSpot confirmed.

    Exit 0: HubSpot holds everything as confirmed; 5: drift found (edited by someone else,
    deleted, archived or merged), listed here and in reverse_etl.verify_results; `sync
    --repair` re-sends it. Edits of mapped fields HubSpot owns (to_lms, both) are listed as
    two_way_edit and are not drift. `edited by` comes from HubSpot's property history.
    """
    settings = _settings()
    from flows.pipeline import one_shot
    from lmsbridge_cli.verify_view import print_verify
    from reverse_etl.verify import verify as run_verify

    _log_to_console(settings)
    with _guard("verify"), progress_bars() as bars, one_shot(settings, "verify"):
        report = run_verify(settings, only=[only] if only else None, progress=bars)
    with _guard("verify"):
        print_verify(settings, report, console, limit=limit)
    if report.has_drift:
        raise typer.Exit(int(ExitCode.DRIFT_FOUND))


@app.command()
def serve() -> None:
    """Serve the deployments: lmsbridge-sync on LMSBRIDGE_SCHEDULE_CRON, full resync on demand,
    lmsbridge-verify on LMSBRIDGE_VERIFY_CRON (when set)."""
    settings = _settings()
    from flows.environment import configure_prefect

    with _guard("serve"):
        configure_prefect(settings)
        from flows.run_log import log_to_file

        log_to_file(settings)
        from flows.serve import serve_deployments

        serve_deployments(settings)


@app.command()
def resume() -> None:
    """Un-pause the schedule after an auth failure or a failure streak was fixed."""
    settings = _settings()
    from flows.environment import configure_prefect, prefect_server_configured

    with _guard("resume"):
        if prefect_server_configured():
            configure_prefect(settings)
        from flows.serve import resume_schedule

        message = resume_schedule(settings)
    console.print(message)


@app.command()
def erase(
    email: Annotated[str, typer.Option("--email", help="The person's email (any case/spacing).")],
    hubspot: Annotated[
        bool, typer.Option("--hubspot", help="Also GDPR-delete the HubSpot contact (permanent).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be removed; change nothing.")
    ] = False,
) -> None:
    """GDPR erasure: remove one person from the warehouse folder (tables, BI snapshot, dlt
    load packages, webhook landings, logs); --hubspot deletes the contact in HubSpot too."""
    settings = _settings()
    _log_to_console(settings)
    # Our failure lines never print the email, whatever raised them.
    _state["secrets"] = [*_state["secrets"], email, email.strip(), email.strip().lower()]
    from flows.erase import erase as erase_person

    with _guard("erase"):
        result = erase_person(settings, email, dry_run=dry_run, hubspot=hubspot)
    verb = "would remove" if dry_run else "removed"
    console.print(
        f"erasure {result.erasure_id}: {verb} {result.rows_total} rows in {len(result.rows)}"
        f" tables, {result.load_packages_removed} dlt load packages,"
        f" {result.lines_removed} lines in {result.files_rewritten} files",
        highlight=False,
    )
    console.print(f"HubSpot: {result.hubspot}; LearnWorlds: {result.lms}", highlight=False)
    if result.source_csv_files_holding:
        console.print(
            "the history CSVs (customer input, not edited) still hold this person: "
            + ", ".join(result.source_csv_files_holding),
            highlight=False,
        )
    if result.files_still_holding and not dry_run:
        _fail(
            ExitCode.RUN_FAILED,
            "files still hold the email: " + ", ".join(result.files_still_holding),
        )


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
    from lmsbridge_cli.report import write_report

    _hint_demo_snapshot(settings)
    with _guard("report"):
        path = write_report(settings, out, with_dbt_docs=docs)
    console.print(f"report written to {path}")


def _hint_demo_snapshot(settings: Settings) -> None:
    """`make demo` leaves its warehouse in warehouse/demo/: say how to point at it."""
    if settings.published_warehouse_path.exists():
        return
    demo = Path("warehouse/demo/lmsbridge.duckdb")
    if demo.exists() and demo.resolve() != settings.warehouse_path.resolve():
        _fail(
            ExitCode.BAD_CONFIG,
            f"no published snapshot at {settings.published_warehouse_path}; the demo's warehouse "
            f"is {demo}: run `LMSBRIDGE_WAREHOUSE_PATH={demo} uv run lmsbridge report`",
        )


@sandbox_app.command("up")
def sandbox_up(
    learners: Annotated[int, typer.Option(help="Learners to generate.", min=10)] = 2000,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 42,
    workdir: Annotated[Path, typer.Option(help="Where the dataset is written.")] = Path(
        "warehouse/sandbox"
    ),
) -> None:
    """Generate a dataset and serve both emulators until Ctrl-C."""
    try:
        from sandbox.runner import serve_forever
    except ModuleNotFoundError as exc:
        # The wheel leaves the sandbox out (pyproject.toml): it ships with the repository.
        _fail(
            ExitCode.BAD_CONFIG,
            f"the sandbox is not installed ({exc.name} missing): it ships with the lmsbridge "
            "source repository; run `make sandbox` from a clone",
        )

    with _guard("sandbox"):
        try:
            serve_forever(learners, seed, workdir, console.print)
        except KeyboardInterrupt:
            console.print("sandbox stopped")


@webhooks_app.command("serve")
def webhooks_serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8765,
) -> None:
    """Receive LearnWorlds webhooks (signature-verified) into the landing dir for the next extract."""
    settings = _settings()
    from extract.webhooks import serve as serve_webhooks

    with _guard("webhooks serve"):
        serve_webhooks(settings, host=host, port=port)
