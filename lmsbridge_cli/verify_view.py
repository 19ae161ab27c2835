"""What `lmsbridge verify` prints: per sync, records checked and drifted; then the drift."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from lmsbridge_core.settings import Settings
from reverse_etl import state as st
from reverse_etl.rejections import learner_emails
from reverse_etl.verify import VerifyReport


def print_verify(settings: Settings, report: VerifyReport, console: Console, *, limit: int) -> None:
    kinds = Counter((d.sync_name, d.kind) for d in report.drift)
    summary = Table(title=f"verify {report.verify_id[:8]}: {report.calls:,} read calls")
    summary.add_column("sync", no_wrap=True)
    for name in ("checked", "edited", "missing", "archived", "merged"):
        summary.add_column(name, justify="right", no_wrap=True)
    for name, checked in report.checked.items():
        summary.add_row(
            name,
            f"{checked:,}",
            *(f"{kinds[(name, k)]:,}" for k in ("edited", "missing", "archived", "merged")),
        )
    console.print(summary)
    if not report.drift:
        console.print("[green]HubSpot holds everything as confirmed[/]")
        return
    with st.connect(str(settings.warehouse_path), read_only=True) as con:
        emails = learner_emails(con)
    detail = Table("sync", "record", "kind", "property", "ours → theirs", title="drift")
    for d in report.drift[:limit]:
        change = (
            f"{d.ours or '(empty)'} → {d.theirs or '(empty)'}"
            if d.kind == "edited"
            else (f"into #{d.theirs}" if d.kind == "merged" else "")
        )
        detail.add_row(d.sync_name, emails.get(d.record_key, f"#{d.hubspot_id or d.record_key}"),
                       d.kind, d.property or "", change)  # fmt: skip
    console.print(detail)
    more = len(report.drift) - limit
    if more > 0:
        console.print(f"... and {more:,} more in reverse_etl.verify_results")
    console.print(
        f"[yellow]{report.records_drifted:,} records drifted[/]: `lmsbridge sync --repair` "
        "re-sends what was edited or deleted"
    )
