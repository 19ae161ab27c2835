"""Publishing the BI snapshot, the HTML report and `status`, on a hand-made warehouse."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from flows.publish import is_published, publish_snapshot
from lmsbridge_cli.report import load_report_data, write_report
from lmsbridge_cli.status import next_runs, print_status
from lmsbridge_core import build_record
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


# What a real warehouse holds beside the marts: dlt's raw datasets with their bookkeeping
# and merge schemas, dbt's lower layers, the sync's private state, a documented mart view.
_NOT_FOR_BI = """
create schema raw_lms; create schema raw_lms_staging; create schema staging;
create table raw_lms.users as select 'u1' as id;
create table raw_lms._dlt_loads as select 'x' as load_id;
create table raw_lms_staging.users as select 'u1' as id;
create table staging.stg_users as select 'u1' as lms_user_id;
create table reverse_etl.sync_state as select 'l1' as record_key;
create view marts.learner_emails as select learner_key, email from marts.dim_learners;
comment on view marts.learner_emails is 'One row per learner';
comment on column marts.learner_emails.email is 'Email as the LMS has it';
"""


def _objects(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() union all "
            "select schema_name || '.' || view_name from duckdb_views() where not internal"
        ).fetchall()
    return sorted(name for (name,) in rows)


def test_snapshot_holds_marts_and_run_history_only(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(_NOT_FOR_BI)
    result = publish_snapshot(settings.warehouse_path, settings.published_warehouse_path)
    assert _objects(result.path) == [
        "marts.dim_learners",
        "marts.fct_deal_attribution",
        "marts.fct_learning_events",
        "marts.identity_conflicts",
        "marts.learner_emails",
        "reverse_etl.rejected_rows",
        "reverse_etl.sync_runs",
    ]
    assert (result.tables, result.schemas) == (7, ("marts", "reverse_etl"))
    with duckdb.connect(str(result.path), read_only=True) as con:
        # The view is a table now, its comments carried over.
        assert con.execute(
            "select comment from duckdb_tables() where table_name = 'learner_emails'"
        ).fetchall() == [("One row per learner",)]
        assert con.execute(
            "select column_name, comment from duckdb_columns() "
            "where table_name = 'learner_emails' order by 1"
        ).fetchall() == [("email", "Email as the LMS has it"), ("learner_key", None)]


def _build(settings: Settings, n: int) -> None:
    """What a pipeline build leaves beside the marts: the record of the build (n-th)."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        build_record.write(con, build_record.BuildRecord(f"inputs {n}", True, float(n)))


def test_a_publish_after_a_reused_build_copies_only_the_run_history(settings: Settings) -> None:
    warehouse, target = settings.warehouse_path, settings.published_warehouse_path
    _build(settings, 1)
    first = publish_snapshot(warehouse, target)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into reverse_etl.sync_runs by name (select * from reverse_etl.sync_runs limit 1)"
        )
        runs = con.execute("select count(*) from reverse_etl.sync_runs").fetchone()[0]  # type: ignore[index]
    # The build was reused: same marts, a new run in the history.
    again = publish_snapshot(warehouse, target)
    assert (first.history_only, again.history_only) == (False, True)
    assert (again.tables, again.schemas) == (first.tables, first.schemas)
    assert _count_in_new_process(target, "reverse_etl.sync_runs") == runs
    assert _count_in_new_process(target, "marts.dim_learners") == 3
    assert _objects(again.path) == _objects(first.path)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]

    # A new build: every mart copied again.
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "delete from marts.dim_learners where learner_key = (select min(learner_key) from marts.dim_learners)"
        )
    _build(settings, 2)
    rebuilt = publish_snapshot(warehouse, target)
    assert not rebuilt.history_only
    assert _count_in_new_process(target, "marts.dim_learners") == 2
    # No record (a manual dbt run, an erase), raw layers asked for, or another snapshot
    # path: the whole copy.
    assert publish_snapshot(warehouse, target).history_only
    assert not publish_snapshot(warehouse, target, include_raw=True).history_only
    assert not publish_snapshot(warehouse, target).history_only  # the raw copy set no build
    elsewhere = target.with_name("other.duckdb")
    assert not publish_snapshot(warehouse, elsewhere).history_only
    assert not publish_snapshot(warehouse, target).history_only  # last published elsewhere
    with duckdb.connect(str(warehouse)) as con:
        build_record.forget(con)
    assert not publish_snapshot(warehouse, target).history_only
    assert not publish_snapshot(warehouse, target).history_only


def test_publish_raw_adds_raw_and_staging_but_no_dlt_internals(settings: Settings) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(_NOT_FOR_BI)
    result = publish_snapshot(
        settings.warehouse_path, settings.published_warehouse_path, include_raw=True
    )
    objects = _objects(result.path)
    assert {"raw_lms.users", "staging.stg_users", "marts.dim_learners"} <= set(objects)
    assert not {"raw_lms._dlt_loads", "raw_lms_staging.users", "reverse_etl.sync_state"} & set(
        objects
    )
    assert result.schemas == ("marts", "raw_lms", "reverse_etl", "staging")


def test_failed_copy_keeps_the_previous_snapshot(settings: Settings) -> None:
    target = settings.published_warehouse_path
    publish_snapshot(settings.warehouse_path, target)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        # A mart view whose table is gone: reading it fails halfway through the copy.
        con.execute("create table marts.gone as select 1 as x")
        con.execute("create view marts.zz_broken as select * from marts.gone")
        con.execute("drop table marts.gone")
    with pytest.raises(duckdb.Error):
        publish_snapshot(settings.warehouse_path, target)
    assert "marts.zz_broken" not in _objects(target)
    assert _count_in_new_process(target, "marts.dim_learners") == 3
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


@pytest.mark.parametrize(
    ("schema", "name", "include_raw", "published"),
    [
        ("marts", "dim_learners", False, True),
        ("reverse_etl", "sync_runs", False, True),
        ("reverse_etl", "rejected_rows", False, True),
        ("reverse_etl", "sync_state", True, False),
        ("reverse_etl", "field_state", True, False),
        ("raw_lms", "users", False, False),
        ("raw_lms", "users", True, True),
        ("raw_lms", "_dlt_loads", True, False),
        ("raw_lms_staging", "users", True, False),
        ("staging", "stg_learnworlds__users", True, True),
        ("intermediate", "int_learners", True, True),
        ("intermediate", "int_learners", False, False),
        ("main", "anything", True, False),
        # the two-way sync's unpivoted inputs: recomputed from raw on every copy, not for BI
        ("marts", "rev_etl__learner_fields", False, False),
        ("marts", "rev_etl__contact_properties", False, False),
        ("marts", "rev_etl__contact_properties", True, True),
        ("marts", "rev_etl__hubspot_contacts", False, True),
    ],
)
def test_which_relations_are_published(
    schema: str, name: str, include_raw: bool, published: bool
) -> None:
    assert is_published(schema, name, include_raw=include_raw) is published


def test_publish_raw_setting_reaches_the_pipeline_step(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.pipeline import publish

    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(_NOT_FOR_BI)
    monkeypatch.setenv("LMSBRIDGE_PUBLISH_RAW", "true")
    raw = Settings(warehouse_path=settings.warehouse_path)
    assert raw.publish_raw is True
    assert "raw_lms" in publish(raw).schemas
    assert "raw_lms" not in publish(settings).schemas


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


def test_status_names_the_last_verify(settings: Settings) -> None:
    from reverse_etl.verify import DDL

    console = Console(record=True, width=200)
    print_status(settings, console)
    assert "last verify" not in console.export_text()  # none ran: no line
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(DDL)
        con.execute(
            "insert into reverse_etl.verify_runs values "
            "('v1', timestamptz '2026-12-01 08:00:00+00', 1200, 0, 13, 0), "
            "('v2', timestamptz '2026-12-02 09:30:00+00', 1250, 3, 14, 2)"
        )
    console = Console(record=True, width=200)
    print_status(settings, console)
    text = console.export_text()
    assert "last verify 2026-12-02 09:30 UTC: 1,250 records checked, 3 drifted" in text
    assert "2 two-way edits" in text and "sync --repair" in text


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
