"""What one run did, as data (returned by the flows), as a JSON record (the run ledger, for
`lmsbridge status`) and as markdown (the end of `lmsbridge run` and the Prefect artifact).

The readable part comes first: what changed in HubSpot and the LMS, tasks per owner, the
rejected records with their email and a link, API calls per API. Detail tables follow.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flows.dbt_step import DbtSummary

# Syncs that write to the LMS rather than HubSpot (their calls are LearnWorlds calls).
LMS_SYNCS = frozenset({"fields_to_lms", "learner_creation"})
# How the summary names what each sync changed.
CHANGE_LABELS = {
    "contacts": "contacts updated",
    "deals": "deals updated",
    "tasks": "tasks created",
    "notes": "notes written",
    "timeline_events": "timeline events",
    "fields_to_hubspot": "contact fields from the LMS",
    "fields_to_lms": "learners updated in the LMS",
    "learner_creation": "learners created in the LMS",
}


@dataclass
class RunSummary:
    flow: str
    full: bool = False
    # resync --direction: how the two-way field syncs align every mapped field
    direction: str | None = None
    # The run ledger's id: also `pipeline_run_id` on every reverse_etl.sync_runs row of the run.
    run_id: str | None = None
    started_at: float = 0.0
    finished_at: float = 0.0
    skipped: str | None = None
    error: str | None = None
    extracts: list[Any] = field(default_factory=list)  # extract.ExtractResult
    dbt: DbtSummary | None = None
    syncs: list[Any] = field(default_factory=list)  # reverse_etl.SyncRunResult
    published_path: str | None = None

    @property
    def duration_s(self) -> float:
        return max(0.0, self.finished_at - self.started_at)

    @property
    def rows_landed(self) -> int:
        return sum(sum(e.rows_by_table.values()) for e in self.extracts)

    @property
    def records_sent(self) -> int:
        return sum(s.sent for s in self.syncs)

    @property
    def records_rejected(self) -> int:
        return sum(s.rejected for s in self.syncs) + sum(e.rejected for e in self.extracts)

    @property
    def api_calls(self) -> int:
        return sum(self.calls_by_api.values())

    @property
    def calls_by_api(self) -> dict[str, int]:
        calls: Counter[str] = Counter()
        for e in self.extracts:
            if e.source != "csv":
                calls["HubSpot" if e.source == "hubspot" else "LearnWorlds"] += e.api_calls
        for s in self.syncs:
            calls["LearnWorlds" if s.name in LMS_SYNCS else "HubSpot"] += s.calls
        return dict(calls)

    @property
    def status_429(self) -> int:
        return sum(getattr(x, "status_429", 0) or 0 for x in [*self.extracts, *self.syncs])

    @property
    def tasks_by_owner(self) -> dict[str, int]:
        owners: Counter[str] = Counter()
        for s in self.syncs:
            owners.update(getattr(s, "by_owner_confirmed", None) or {})
        return dict(owners)

    @property
    def rejections(self) -> list[Any]:
        return [r for s in self.syncs for r in getattr(s, "rejections", None) or []]


def to_record(summary: RunSummary) -> dict[str, Any]:
    """The summary as JSON-safe data: what `lmsbridge status` shows for a past run."""
    return {
        "run_id": summary.run_id,
        "flow": summary.flow,
        "status": "skipped" if summary.skipped else "failed" if summary.error else "ok",
        "error": summary.error,
        "duration_s": round(summary.duration_s, 1),
        "rows_landed": summary.rows_landed,
        "records_sent": summary.records_sent,
        "records_rejected": summary.records_rejected,
        "calls_by_api": summary.calls_by_api,
        "status_429": summary.status_429,
        "changes": {s.name: s.succeeded for s in summary.syncs},
        "deferred": {s.name: d for s in summary.syncs if (d := getattr(s, "deferred", 0))},
        "repaired": {s.name: d for s in summary.syncs if (d := getattr(s, "repaired", 0))},
        "tombstones": {s.name: t for s in summary.syncs if (t := getattr(s, "tombstones", None))},
        "tasks_by_owner": summary.tasks_by_owner,
        "rejections": [
            {
                "sync": r.sync_name,
                "email": r.email,
                "reason": f"{r.category}: {r.message}",
                "link": r.link,
            }
            for r in summary.rejections[:20]
        ],
    }


def change_lines(record: dict[str, Any]) -> list[str]:
    """'1,196 contacts updated', one per sync that changed something, then the owners."""
    lines = []
    for name, count in (record.get("changes") or {}).items():
        deferred = (record.get("deferred") or {}).get(name)
        deleted = (record.get("tombstones") or {}).get(name) or {}
        if not count and not deferred and not deleted:
            continue
        label = CHANGE_LABELS.get(name, f"{name} records")
        # Archived records were removed, not written or updated: they are told in the note.
        count = max(0, count - deleted.get("archived", 0))
        repaired = (record.get("repaired") or {}).get(name)
        notes = [f"{deferred:,} deferred to the next run by the cap"] if deferred else []
        notes += [f"{repaired:,} repaired after edits in HubSpot"] if repaired else []
        if deleted:
            # Imported here: importing reverse_etl loads dlt and httpx, which a CLI that
            # only needs RunSummary (`lmsbridge --help`) must not pay for.
            from reverse_etl.plan_view import deleted_note

            notes.append(deleted_note(deleted))
        lines.append(f"{count:,} {label}" + (f" ({'; '.join(notes)})" if notes else ""))
    owners = record.get("tasks_by_owner") or {}
    if owners:
        ranked = sorted(owners.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"owner {owner or 'none'}: {n}" for owner, n in ranked[:8])
        more = f", {len(ranked) - 8} more owners" if len(ranked) > 8 else ""
        lines.append(f"tasks per owner: {shown}{more}")
    return lines


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC") if epoch else "-"


def render_markdown(summary: RunSummary) -> str:
    """The per-run summary: what changed first, then the detail tables."""
    if summary.skipped:
        return f"# {summary.flow}: skipped\n\n{summary.skipped}\n"
    record = to_record(summary)
    dbt = summary.dbt or DbtSummary()
    run = f"run `{summary.run_id[:8]}`, " if summary.run_id else ""
    calls = ", ".join(f"{api} {n:,}" for api, n in sorted(record["calls_by_api"].items()))
    lines = [
        f"# {summary.flow}{' (full resync)' if summary.full else ''}: "
        + ("FAILED" if summary.error else "ok"),
        "",
        f"{run}started {_when(summary.started_at)}, took {summary.duration_s:.0f} s",
        "",
        *([f"**Error:** {summary.error}", ""] if summary.error else []),
        "## What changed",
        "",
        *([f"- {line}" for line in change_lines(record)] or ["- nothing to send"]),
        f"- {summary.records_rejected:,} records rejected",
        f"- API calls: {calls or 'none'} ({summary.status_429} answered 429)",
        f"- {summary.rows_landed:,} rows landed; {dbt.line}",
        "",
    ]
    if record["rejections"]:
        lines += ["## Rejected records", "", "| sync | email | reason | HubSpot |"]
        lines += ["| --- | --- | --- | --- |"]
        for r in record["rejections"]:
            reason = str(r["reason"]).replace("|", "/")[:120]
            link = f"[open]({r['link']})" if r["link"] else ""
            lines.append(f"| {r['sync']} | {r['email'] or ''} | {reason} | {link} |")
        more = summary.records_rejected - len(record["rejections"])
        if more > 0:
            lines.append(f"\n... and {more:,} more in `reverse_etl.rejected_rows`.")
        lines.append("")
    lines += [
        "## Extract",
        "",
        "| source | rows | rejected | API calls | seconds |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for e in summary.extracts:
        lines.append(
            f"| {e.source} | {sum(e.rows_by_table.values()):,} | {e.rejected:,} "
            f"| {e.api_calls:,} | {e.duration_s:.1f} |"
        )
    lines += [
        "",
        "## Reverse ETL",
        "",
        "| sync | planned | sent | succeeded | rejected | unchanged | calls | 429s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in summary.syncs:
        lines.append(
            f"| {s.name} | {s.planned:,} | {s.sent:,} | {s.succeeded:,} | {s.rejected:,} "
            f"| {s.unchanged:,} | {s.calls:,} | {s.status_429} |"
        )
    return "\n".join(lines) + "\n"
