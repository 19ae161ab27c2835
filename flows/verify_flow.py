"""`lmsbridge-verify`: `lmsbridge verify` as a Prefect flow, served on LMSBRIDGE_VERIFY_CRON.

It takes the same run lock and `lmsbridge-sync` concurrency slot as the sync flow (verify
writes its results to the warehouse, and DuckDB has one writer), waiting for a sync in
progress rather than skipping: a verify is rare (daily, say), a sync frequent. Drift found is
not a failed run (only data and API errors fail runs): it is a WARNING, and the markdown
artifact lists it. The artifact names records by HubSpot id and leaves values out: a Prefect
artifact is outside the warehouse that `lmsbridge erase` cleans; the values are in
reverse_etl.verify_results.
"""

from __future__ import annotations

from collections import Counter

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact
from prefect.context import get_run_context

from flows import ledger
from flows.notify import on_flow_failure
from flows.schedule_state import load_state
from flows.sync_flow import mark_crashed_flow_runs, one_run_at_a_time
from lmsbridge_core.errors import RunSkipped
from lmsbridge_core.redaction import install_redaction, redact
from lmsbridge_core.settings import load_settings
from reverse_etl.verify import KINDS, VerifyReport, is_drift, verify

VERIFY_FLOW = "lmsbridge-verify"
ARTIFACT_KEY = "lmsbridge-verify"
ARTIFACT_ROWS = 50  # the rest are in reverse_etl.verify_results


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(report: VerifyReport) -> str:
    """The drift table: per sync counts, then the drifted records (ids, no values)."""
    if report.has_drift:
        verdict = f"**{report.records_drifted} records drifted**: `lmsbridge sync --repair`"
    else:
        verdict = "**No drift**: HubSpot holds what we confirmed"
    lines = [
        f"# lmsbridge verify `{report.verify_id[:8]}`",
        "",
        f"{verdict}. {report.two_way_edits} two-way edits (they flow to LearnWorlds on the"
        f" next run, not drift). {report.calls} read calls.",
        "",
        "| sync | checked | " + " | ".join(KINDS) + " |",
        "|---|---:|" + "---:|" * len(KINDS),
    ]
    kinds = Counter((d.sync_name, d.kind) for d in report.drift)
    for name, checked in report.checked.items():
        counts = " | ".join(str(kinds[(name, k)]) for k in KINDS)
        lines.append(f"| {_cell(name)} | {checked} | {counts} |")
    if report.drift:
        lines += [
            "",
            "| sync | HubSpot id | kind | property | edited by | source | edited at |",
            "|---|---|---|---|---|---|---|",
        ]
        ordered = sorted(report.drift, key=lambda d: not is_drift(d))
        for d in ordered[:ARTIFACT_ROWS]:
            at = d.edited_at.strftime("%Y-%m-%d %H:%M UTC") if d.edited_at else ""
            cells = (d.sync_name, d.hubspot_id, d.kind, d.property, d.edited_by,
                     d.edited_source, at)  # fmt: skip
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        more = len(report.drift) - ARTIFACT_ROWS
        if more > 0:
            lines.append(f"\n... and {more} more in `reverse_etl.verify_results`.")
    return "\n".join(lines) + "\n"


@flow(
    name=VERIFY_FLOW,
    description="Read back what lmsbridge manages in HubSpot and report drift (writes nothing).",
    on_failure=[on_flow_failure],
    on_crashed=[on_flow_failure],
)
def verify_flow(wait_if_running: bool = True) -> VerifyReport | None:
    """None when skipped (schedule paused, or busy with `wait_if_running` false)."""
    logger = get_run_logger()
    settings = load_settings()
    install_redaction(settings.secrets())
    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    schedule = load_state(settings)
    if schedule.paused and getattr(flow_run, "deployment_id", None) is not None:
        # Paused after an auth failure or a failure streak: verify would meet the same.
        logger.warning("schedule paused (%s); run `lmsbridge resume`", schedule.reason)
        return None
    mark_crashed_flow_runs(settings)
    try:
        with (
            one_run_at_a_time(settings, wait_if_running),
            ledger.recorded(settings, "verify", "prefect", str(flow_run.id) if flow_run else None),
        ):
            report = verify(settings)
    except RunSkipped as exc:
        logger.warning(str(exc))
        return None
    create_markdown_artifact(
        key=ARTIFACT_KEY,
        markdown=redact(render_markdown(report), settings.secrets()),
        description="lmsbridge verify: drift between HubSpot and what it confirmed to us",
    )
    if report.has_drift:
        logger.warning(
            "verify found drift: %s records (see the %s artifact or reverse_etl.verify_results)",
            report.records_drifted,
            ARTIFACT_KEY,
        )
    else:
        logger.info("verify: no drift (%s two-way edits)", report.two_way_edits)
    return report
