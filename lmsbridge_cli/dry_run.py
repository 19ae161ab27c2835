"""`lmsbridge sync --dry-run`: per sync, what would be created, updated and skipped, with a few
before -> after examples per property. Everything else goes behind --details or --csv."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.table import Table

from lmsbridge_core.settings import Settings
from reverse_etl import state as st
from reverse_etl.plan import ConfirmedState
from reverse_etl.plan_view import (
    PropertyChange,
    by_property,
    deleted_note,
    field_summary,
    property_changes,
    skipped_reasons,
)
from reverse_etl.rejections import learner_emails

VALUE_CHARS = 24


def _short(value: str | None) -> str:
    if value is None or value == "":
        return "(empty)"
    return value if len(value) <= VALUE_CHARS else value[: VALUE_CHARS - 1] + "…"


def _room(console: Console, widths: list[int]) -> int:
    """Characters left for a last column after `widths` and the borders and padding of a
    table with one more column (rich: one bar per edge, one space each side of a cell)."""
    columns = len(widths) + 1
    return max(20, console.width - sum(widths) - (3 * columns + 1))


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _states(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> dict[str, Any]:
    return {name: st.load_state(con, name) for name in names}


def print_dry_run(
    settings: Settings,
    results: Sequence[Any],
    console: Console,
    *,
    details: bool = False,
    csv_path: Path | None = None,
) -> int:
    """Print the readable plan; write every change to `csv_path` if given. Returns how many
    property changes the plan holds."""
    names = [r.name for r in results if r.plan is not None]
    with st.connect(str(settings.warehouse_path), read_only=True) as con:
        labels = learner_emails(con)
        states = _states(con, names)
    everything: list[PropertyChange] = []
    for result in results:
        if result.plan is None:  # the two-way syncs: their fields are in the table below
            console.print(
                f"{result.name}: {result.planned:,} planned, {result.skipped:,} skipped"
                + (f", {result.error}" if result.error else ""),
                highlight=False,
            )
        else:
            changes = list(property_changes(result.plan, states[result.name], labels))
            everything += changes
            _print_sync(console, result, changes, labels, states[result.name], details)
    _print_fields(console, results, labels, details)
    if csv_path is not None:
        _write_csv(csv_path, everything)
        console.print(f"{len(everything):,} property changes written to {csv_path}")
    elif not details and everything:
        console.print("every record: --details (on screen) or --csv FILE")
    return len(everything)


def _print_sync(
    console: Console,
    result: Any,
    changes: list[PropertyChange],
    labels: dict[str, str],
    state: dict[str, ConfirmedState],
    details: bool,
) -> None:
    counts = result.plan.summary()
    title = (
        f"{result.name}: {counts['creates']:,} to create, {counts['updates']:,} to update, "
        f"{counts['unchanged']:,} unchanged, {counts['skipped']:,} skipped, "
        f"{counts['invalid']:,} invalid"
    )
    for line in result.plan.setup:
        console.print(f"  setup: {line}")
    if changes:
        per_property = sorted(by_property(iter(changes)).items())
        # Names and counts keep their width; the examples get what is left of the line.
        name_w = max(len(p) for p, _ in per_property)
        room = _room(console, [name_w, 7])
        table = Table(title=title)
        table.add_column("property", no_wrap=True)
        table.add_column("records", justify="right", no_wrap=True, min_width=7)
        table.add_column("examples (before → after)", no_wrap=True)
        for prop, summary in per_property:
            examples = "; ".join(f"{_short(b)} → {_short(a)}" for b, a in summary.examples)
            table.add_row(prop, f"{summary.records:,}", _fit(examples, room))
        console.print(table)
    else:
        console.print(title)
    plan = result.plan
    if plan.by_owner:
        ranked = sorted(plan.by_owner.items(), key=lambda kv: (-kv[1], kv[0]))
        console.print(
            "  per owner: " + ", ".join(f"{owner or 'none'}: {n:,}" for owner, n in ranked[:10]),
            highlight=False,
        )
    if plan.deferred:
        limit = plan.cap.max_per_run if plan.cap is not None else None
        console.print(
            f"  deferred to later runs by the per-owner cap of {limit}: {len(plan.deferred):,}"
        )
    if plan.tombstones:
        counts = {action: len(keys) for action, keys in plan.tombstones.items()}
        console.print(f"  {deleted_note(counts)} (on_delete policy, applied once)")
    if plan.repaired:
        console.print(
            f"  changed or deleted in HubSpot since confirmed, re-sent: {len(plan.repaired):,}"
        )
    for reason, records in skipped_reasons(result.plan, labels).items():
        sample = ", ".join(records[:3])
        console.print(f"  skipped {len(records):,}: {reason} (e.g. {sample})")
    invalid: dict[str, list[str]] = {}
    for rejection in result.plan.invalid:
        invalid.setdefault(rejection.category, []).append(
            labels.get(rejection.record_key, rejection.record_key)
        )
    for category, records in invalid.items():
        console.print(f"  invalid {len(records):,}: {category} (e.g. {', '.join(records[:3])})")
    if details and changes:
        full = Table(
            "record", "action", "property", "before", "after", title=f"{result.name}: every change"
        )
        for change in changes:
            full.add_row(change.record, change.action, change.property,
                         change.before or "", change.after)  # fmt: skip
        console.print(full)


def _print_fields(
    console: Console, results: Sequence[Any], labels: dict[str, str], details: bool
) -> None:
    invalid = next(
        (r.invalid_mappings for r in results if getattr(r, "invalid_mappings", None)), []
    )
    for key, problem in invalid:
        console.print(f"[yellow]invalid field mapping skipped:[/] {key}: {problem}")
    plan = next((r.field_plan for r in results if getattr(r, "field_plan", None)), None)
    if plan is None:
        return
    counts = plan.summary()
    per_mapping = sorted(field_summary(plan, labels).items())
    console.print(
        f"two-way fields: {counts['to_hubspot']:,} to HubSpot, {counts['to_lms']:,} to the "
        f"LMS, {counts['held']:,} held, {counts['unchanged']:,} unchanged",
        highlight=False,
    )
    table = Table()
    table.add_column("mapping", no_wrap=True)
    for name in ("to HubSpot", "to LMS", "held"):
        table.add_column(name, justify="right", no_wrap=True)
    for key, entry in per_mapping:
        table.add_row(key, f"{entry.to_hubspot:,}", f"{entry.to_lms:,}", f"{entry.held:,}")
    console.print(table)
    for key, entry in per_mapping:
        for record, way, lms, hubspot in entry.examples[:2]:
            line = f"  e.g. {key} {record} ({way}): LMS {_short(lms)} | HubSpot {_short(hubspot)}"
            console.print(_fit(line, console.width), highlight=False, markup=False)
    if details:
        from reverse_etl.field_sync import explain

        full = Table("learner", "mapping", "way", "LMS value", "HubSpot value", "why")
        for row in explain(plan, len(plan.decisions)):
            full.add_row(
                labels.get(row["learner_key"], row["learner_key"]),
                row["field"],
                row["way"],
                str(row["lms"] if row["lms"] is not None else "-"),
                str(row["hubspot"] if row["hubspot"] is not None else "-"),
                row["reason"],
            )
        console.print(full)


def _write_csv(path: Path, changes: list[PropertyChange]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sync", "action", "record", "target", "property", "before", "after"])
        for c in changes:
            writer.writerow(
                [c.sync_name, c.action, c.record, c.target, c.property, c.before or "", c.after]
            )
