"""Publishing the BI snapshot, the HTML report and `status`, on a hand-made warehouse."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from flows.publish import publish_snapshot
from lmsbridge_cli.report import load_report_data, write_report
from lmsbridge_cli.status import next_runs, print_status
from lmsbridge_core.settings import Settings
from tests.flows.handmade import make_warehouse
from tests.flows.handmade_revenue import add_revenue_and_runs


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    warehouse = make_warehouse(tmp_path / "wh" / "lmsbridge.duckdb")
    return Settings(warehouse_path=warehouse, hubspot_access_token="pat-na1-not-a-real-token")


def _count_in_new_process(path: Path, table: str) -> int:
    # A fresh process, like a BI tool opening the file after the swap.
    code = f"import duckdb; print(duckdb.connect({str(path)!r}, read_only=True).execute('select count(*) from {table}').fetchone()[0])"
    return int(
        subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True, text=True
        ).stdout
    )


def test_publish_swaps_in_a_consistent_copy(settings: Settings) -> None:
    target = settings.published_warehouse_path
    result = publish_snapshot(settings.warehouse_path, target)
    assert result.path == target.resolve()
    assert result.tables == 6
    assert _count_in_new_process(target, "marts.dim_learners") == 3
    # No temp files are left beside the snapshot.
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_bi_reader_holding_the_snapshot_does_not_block_publish(settings: Settings) -> None:
    target = settings.published_warehouse_path
    publish_snapshot(settings.warehouse_path, target)
    reader = duckdb.connect(str(target), read_only=True)
    try:
        with duckdb.connect(str(settings.warehouse_path)) as con:
            con.execute(
                "insert into marts.dim_learners select 'l4', 'u4', 'd@x.com', 'd@x.com', null, null, 'none', 'none', false"
            )
        publish_snapshot(settings.warehouse_path, target)
        # The open reader still sees its old, complete snapshot ...
        assert reader.execute("select count(*) from marts.dim_learners").fetchone()[0] == 3
    finally:
        reader.close()
    # ... and a new reader sees the new one.
    assert _count_in_new_process(target, "marts.dim_learners") == 4


def test_publish_removes_what_a_killed_publish_left(settings: Settings) -> None:
    target = settings.published_warehouse_path
    target.parent.mkdir(parents=True)
    # What a publish SIGKILLed mid-copy leaves beside the snapshot.
    leftovers = [
        target.parent / f".{target.stem}-k1ll3d.tmp.duckdb",
        target.parent / f".{target.stem}-k1ll3d.tmp.duckdb.wal",
    ]
    for path in leftovers:
        path.write_bytes(b"partial")
    unrelated = target.parent / "notes.txt"
    unrelated.write_text("kept")
    publish_snapshot(settings.warehouse_path, target)
    assert sorted(p.name for p in target.parent.iterdir()) == sorted([target.name, unrelated.name])


def test_publish_of_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing to publish"):
        publish_snapshot(tmp_path / "nope.duckdb", tmp_path / "pub" / "nope.duckdb")


def test_report_data_of_an_older_snapshot_degrades_section_by_section(
    settings: Settings,
) -> None:
    # no fct_deals, no first_match_method, no sync_runs.pipeline_run_id
    publish_snapshot(settings.warehouse_path, settings.published_warehouse_path)
    data = load_report_data(settings.published_warehouse_path)
    assert data.learners == 3
    assert {m.method: m.current for m in data.matches} == {"lms_user_id": 1, "email": 1, "none": 1}
    assert not data.has_first_match
    assert data.revenue == [] and data.pivot == [] and data.as_of is None
    # monotonic: l1 purchased but has no certificate, so it stops at "completed"
    assert [(s.step, s.learners) for s in data.funnel] == [
        ("enrolled", 2),
        ("completed", 1),
        ("certificate_issued", 0),
        ("purchase", 0),
    ]
    assert data.pipeline_runs == 1


@pytest.fixture
def revenue_settings(settings: Settings) -> Settings:
    add_revenue_and_runs(settings.warehouse_path)
    publish_snapshot(settings.warehouse_path, settings.published_warehouse_path)
    return settings


def test_report_revenue_is_split_by_status_and_pivot_is_closed_won_learning_only(
    revenue_settings: Settings,
) -> None:
    data = load_report_data(revenue_settings.published_warehouse_path)
    assert data.written_model == "linear"
    assert data.as_of is not None and data.as_of.isoformat().startswith("2026-12-02T00:00")
    assert {r.status: (r.deals, r.amount) for r in data.revenue} == {
        "won": (1, 1000.0),
        "lost": (1, 400.0),
        "open": (1, 2000.0),
    }
    # the CRM touch (no course) and the lost deal's learning credit stay out of the pivot
    assert {(c.course, c.model): c.amount for c in data.pivot} == {
        ("Kubernetes 101", "linear"): 500.0,
        ("Terraform", "linear"): 500.0,
        ("Kubernetes 101", "first_touch"): 1000.0,
    }
    assert data.model_total("linear", "USD", "lost") == 400.0
    assert data.models()[0] == "linear"


def test_report_counts_pipeline_runs_first_matches_and_a_monotonic_funnel(
    revenue_settings: Settings,
) -> None:
    data = load_report_data(revenue_settings.published_warehouse_path)
    # r1 has no pipeline_run_id (its own run); r2 and r3 are one `lmsbridge run`
    assert data.pipeline_runs == 2
    assert data.runs[0]["syncs"] == "contacts, deals"
    assert (data.runs[0]["sent"], data.runs[0]["status"]) == (4, "partial")
    assert {m.method: (m.first, m.current) for m in data.matches} == {
        "lms_user_id": (0, 1),
        "email": (2, 1),
        "none": (1, 1),
    }
    funnel = [(s.learners, s.conversion) for s in data.funnel]
    assert funnel == [(2, None), (1, 0.5), (1, 1.0), (1, 1.0)]


def test_report_is_self_contained_readable_html(revenue_settings: Settings, tmp_path: Path) -> None:
    out = write_report(revenue_settings, tmp_path / "out" / "report.html", with_dbt_docs=False)
    html = out.read_text(encoding="utf-8")
    assert "Kubernetes 101" in html
    assert "66.7%" in html  # 2 of 3 learners matched
    assert "USD 1,000" in html and "USD 2,000" in html
    # every revenue card says when its data is from; the written model is marked
    assert html.count("data as of 2026-12-02 00:00 UTC") == 2
    assert "written to HubSpot</span>" in html
    # timestamps and booleans read as such in the runs table
    assert "2026-01-11 09:00 UTC" in html
    assert "<td>no</td>" in html
    assert not re.search(r"<td[^>]*>(True|False|None)</td>", html)
    assert "+00:00" not in html
    # plotly.js is inlined once and nothing is loaded from the network.
    assert html.count("Plotly.newPlot") == 4
    assert not re.search(r"<script[^>]+src=", html)
    assert html.count("plotly.js v") == 1


def test_report_without_snapshot_says_what_to_do(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="lmsbridge run"):
        write_report(settings, tmp_path / "r.html", with_dbt_docs=False)


def test_status_lists_runs_rejects_and_schedule(settings: Settings) -> None:
    console = Console(record=True, width=200)
    print_status(settings, console)
    text = console.export_text()
    assert "contacts" in text
    assert "INVALID_EMAIL" in text
    assert "*/15 * * * *" in text


def test_status_falls_back_to_snapshot_while_a_run_holds_the_warehouse(settings: Settings) -> None:
    publish_snapshot(settings.warehouse_path, settings.published_warehouse_path)
    # Another process holds the write lock, as a running pipeline does.
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, sys, time; c = duckdb.connect({str(settings.warehouse_path)!r}); print('ok', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        console = Console(record=True, width=200)
        print_status(settings, console)
        assert "showing the snapshot" in console.export_text()
    finally:
        holder.communicate("", timeout=30)


def test_next_runs_follow_the_cron() -> None:
    from datetime import UTC, datetime

    runs = next_runs("*/15 * * * *", 3, now=datetime(2026, 1, 1, 10, 7, tzinfo=UTC))
    assert [r.minute for r in runs] == [15, 30, 45]
