"""What `lmsbridge verify` prints: per sync, records checked and drifted; then the drift,
with who edited each edited property; two-way edits (not drift) are listed apart."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from lmsbridge_core.settings import Settings
from reverse_etl import state as st
from reverse_etl.rejections import learner_emails
from reverse_etl.verify import KINDS, Drift, VerifyReport, is_drift


def _change(d: Drift) -> str:
    if d.kind == "merged":
        return f"into #{d.theirs}"
    if d.property is None:
        return ""
    return f"{d.ours or '(empty)'} → {d.theirs or '(empty)'}"


def _editor(d: Drift) -> str:
    if d.edited_by is None:
        return ""
    return f"{d.edited_by} · {d.edited_source}" if d.edited_source else d.edited_by


def print_verify(settings: Settings, report: VerifyReport, console: Console, *, limit: int) -> None:
    kinds = Counter((d.sync_name, d.kind) for d in report.drift)
    summary = Table(title=f"verify {report.verify_id[:8]}: {report.calls:,} read calls")
    summary.add_column("sync", no_wrap=True)
    for name in ("checked", *KINDS):
        summary.add_column(name, justify="right", no_wrap=True)
    for name, checked in report.checked.items():
        summary.add_row(name, f"{checked:,}", *(f"{kinds[(name, k)]:,}" for k in KINDS))
    console.print(summary)
    if not report.drift:
        console.print("[green]HubSpot holds everything as confirmed[/]")
        return
    with st.connect(str(settings.warehouse_path), read_only=True) as con:
        emails = learner_emails(con)
    # Drift first: two-way edits are expected and listed after it.
    ordered = sorted(report.drift, key=lambda d: not is_drift(d))
    detail = Table("sync", "record", "kind", "property", "ours → theirs", "edited by",
                   title="drift")  # fmt: skip
    for d in ordered[:limit]:
        record = emails.get(d.record_key, f"#{d.hubspot_id or d.record_key}")
        detail.add_row(d.sync_name, record, d.kind, d.property or "", _change(d), _editor(d))
    console.print(detail)
    more = len(report.drift) - limit
    if more > 0:
        console.print(f"... and {more:,} more in reverse_etl.verify_results")
    if report.two_way_edits:
        console.print(
            f"{report.two_way_edits:,} two-way edits in HubSpot: they flow to LearnWorlds on "
            "the next run (not drift)"
        )
    if report.has_drift:
        console.print(
            f"[yellow]{report.records_drifted:,} records drifted[/]: `lmsbridge sync --repair` "
            "re-sends what was edited or deleted"
        )
    else:
        console.print("[green]no drift: HubSpot holds what we confirmed[/]")
