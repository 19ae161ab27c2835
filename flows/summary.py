"""What one run did, as data (returned by the flows) and as the markdown artifact."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.dbt_step import DbtSummary


@dataclass
class RunSummary:
    flow: str
    full: bool = False
    # resync --direction: how the two-way field syncs align every mapped field
    direction: str | None = None
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
        return sum(e.api_calls for e in self.extracts) + sum(s.calls for s in self.syncs)

    @property
    def status_429(self) -> int:
        return sum(getattr(x, "status_429", 0) or 0 for x in [*self.extracts, *self.syncs])


def render_markdown(summary: RunSummary) -> str:
    """The per-run artifact: counts a RevOps reader checks first, then the detail tables."""
    if summary.skipped:
        return f"# {summary.flow}: skipped\n\n{summary.skipped}\n"
    dbt = summary.dbt or DbtSummary()
    lines = [
        f"# {summary.flow}{' (full resync)' if summary.full else ''}: "
        + ("FAILED" if summary.error else "ok"),
        "",
        *([f"**Error:** {summary.error}", ""] if summary.error else []),
        "| metric | value |",
        "| --- | ---: |",
        f"| rows landed | {summary.rows_landed:,} |",
        f"| dbt models built | {dbt.models_built} |",
        f"| dbt tests passed / failed | {dbt.tests_passed} / {dbt.tests_failed} |",
        f"| records sent to HubSpot | {summary.records_sent:,} |",
        f"| records rejected | {summary.records_rejected:,} |",
        f"| API calls | {summary.api_calls:,} |",
        f"| 429 responses | {summary.status_429} |",
        f"| duration | {summary.duration_s:.1f} s |",
        "",
        "## Extract",
        "",
        "| source | rows | rejected | API calls | seconds |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for e in summary.extracts:
        lines.append(
            f"| {e.source} | {sum(e.rows_by_table.values()):,} | {e.rejected} | {e.api_calls} | {e.duration_s:.1f} |"
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
            f"| {s.name} | {s.planned} | {s.sent} | {s.succeeded} | {s.rejected} | {s.unchanged} | {s.calls} | {s.status_429} |"
        )
    if summary.records_rejected:
        lines += [
            "",
            "Rejected rows: see `reverse_etl.rejected_rows` and `raw_lms_files.rejected_rows`.",
        ]
    return "\n".join(lines) + "\n"
