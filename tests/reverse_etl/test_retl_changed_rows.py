"""The set-based diff: SQL hands the planner only changed rows, and the plan it makes is the
one a full read would make (same writes, same counts, same skips and rejections)."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from unittest.mock import ANY

import duckdb
import pytest

from lmsbridge_core import build_record
from lmsbridge_core.settings import Settings
from reverse_etl import changed_rows
from reverse_etl import state as st
from reverse_etl.config import Sync, load_config
from reverse_etl.plan import ConfirmedState, SyncPlan, build_plan
from reverse_etl.runner import _Run

SYNCS = Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml"
COLUMNS = {
    "learner_key": "VARCHAR",
    "hubspot_contact_id": "VARCHAR",
    "email": "VARCHAR",
    "marketing_consent": "BOOLEAN",
    "lms_user_id": "VARCHAR",
    "lms_source": "VARCHAR",
    "lms_courses_completed_count": "BIGINT",
    "lms_last_course_completed": "VARCHAR",
    "lms_recent_course_completion_date": "DATE",
    "lms_engagement_score": "DOUBLE",
    "lms_certified_products": "VARCHAR",
    "lms_last_activity_at": "TIMESTAMPTZ",
    "lifecyclestage": "VARCHAR",
    "lms_deleted": "BOOLEAN",
    "hubspot_contact_archived": "BOOLEAN",
}


def contacts_sync(**changes: Any) -> Sync:
    found = next(s for s in load_config(SYNCS).syncs if s.name == "contacts")
    plain = found.model_copy(update={"column_patterns": ()})
    return plain.model_copy(update=changes)


def row(i: int, score: float = 1.0, contact: str | None = "auto") -> dict[str, Any]:
    return {
        "learner_key": f"k{i:04d}",
        "hubspot_contact_id": str(5000 + i) if contact == "auto" else contact,
        "email": f"l{i}@example.com",
        "marketing_consent": i % 3 != 0,
        "lms_user_id": f"u{i}",
        "lms_source": "learnworlds",
        "lms_courses_completed_count": i % 4,
        "lms_last_course_completed": "Intro" if i % 2 else None,
        "lms_recent_course_completion_date": date(2026, 5, 1 + i % 20),
        "lms_engagement_score": score,
        "lms_certified_products": None,
        "lms_last_activity_at": datetime(2026, 5, 1, 9, i % 60, tzinfo=UTC),
        "lifecyclestage": "lead",
        "lms_deleted": False,
        "hubspot_contact_archived": False,
    }


def write_mart(con: duckdb.DuckDBPyConnection, tmp: Path, rows: list[dict[str, Any]]) -> None:
    source = tmp / "mart.json"
    source.write_text(json.dumps(rows, default=str))
    spec = ", ".join(f"'{c}': '{t}'" for c, t in COLUMNS.items())
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.rev_etl__hubspot_contacts as select * from "
        f"read_json('{source}', format = 'array', columns = {{{spec}}})"
    )


def confirm_plan(con: duckdb.DuckDBPyConnection, plan: SyncPlan, hashes: dict[str, str]) -> None:
    """What the runner records when HubSpot confirms every write of `plan`."""
    confirmed = [
        (key, w.target, w.hashes[key], w.confirmed[key])
        for w in plan.writes
        for key in w.record_keys
    ]
    st.confirm(con, plan.sync_name, confirmed + plan.noops, hashes)


def set_based(con: duckdb.DuckDBPyConnection, sync: Sync) -> tuple[SyncPlan, int]:
    """The runner's plan (then every write confirmed); (plan, mart rows handed to Python)."""
    run = _Run(Settings(), con, load_config(SYNCS), None, dry_run=False, full=False, progress=None)
    read: list[int] = []
    original = changed_rows.read_changed

    def counting(*args: Any, **kwargs: Any) -> changed_rows.MartRead:
        found = original(*args, **kwargs)
        read.append(len(found.rows))
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("reverse_etl.runner.read_changed", counting)
        _, plan = run.plan(sync)
    confirm_plan(con, plan, run.source_hashes[sync.name])
    return plan, read[0]


def full_read(con: duckdb.DuckDBPyConnection, sync: Sync) -> SyncPlan:
    _, rows = st.read_mart(con, sync.source)
    return build_plan(sync, rows, st.load_state(con, sync.name))


def shape(plan: SyncPlan) -> dict[str, Any]:
    return {
        "writes": sorted((w.target, sorted(w.properties.items())) for w in plan.writes),
        "unchanged": plan.unchanged + len(plan.noops),
        "skipped": plan.skipped_count,
        "invalid": sorted((r.record_key, r.category) for r in plan.invalid),
    }


@pytest.fixture
def con(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> duckdb.DuckDBPyConnection:
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(tmp_path / "w.duckdb"))
    connection = st.connect(str(tmp_path / "w.duckdb"))
    st.ensure_tables(connection)
    return connection


def test_an_unchanged_mart_reaches_python_with_no_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync = contacts_sync()
    rows = [row(i) for i in range(200)] + [row(900 + i, contact=None) for i in range(10)]
    write_mart(con, tmp_path, rows)
    first, read_first = set_based(con, sync)
    assert read_first == 210 and len(first.writes) == 200 and len(first.skipped) == 10

    again, read_again = set_based(con, sync)
    assert read_again == 0, "nothing changed: SQL hands over no row"
    assert again.writes == [] and again.unchanged == 200
    # the unmatched learners are skipped again (counted), for the reason the planner gave
    assert again.skipped == [] and again.skipped_count == 10
    named = changed_rows.read_changed(con, sync, list(COLUMNS), has_state=True).skipped
    assert sorted(named) == sorted(first.skipped)


def test_the_set_based_plan_equals_the_full_plan(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync = contacts_sync()
    rows = [row(i) for i in range(300)] + [row(900 + i, contact=None) for i in range(10)]
    write_mart(con, tmp_path, rows)
    set_based(con, sync)
    rng = random.Random(7)
    for i in rng.sample(range(300), 6):
        rows[i]["lms_engagement_score"] = 42.0  # changed values
    rows[10]["hubspot_contact_id"] = None  # now unmatched: skipped
    rows[303]["hubspot_contact_id"] = "7777"  # newly matched
    rows.append(dict(rows[30]))  # a duplicate key: both rows refused as before
    rows[-1]["lms_engagement_score"] = 9.0
    rows[20]["lms_recent_course_completion_date"] = None  # a value gone: cleared
    rows[21]["lms_courses_completed_count"] = None
    write_mart(con, tmp_path, rows)

    full = full_read(con, sync)
    # what a dry run's read names: the rows skipped again, with the full read's reasons
    listed = changed_rows.read_changed(con, sync, list(COLUMNS), has_state=True)
    named = listed.skipped
    plan, read = set_based(con, sync)
    assert shape(plan) == shape(full)
    assert read <= 12, f"only changed rows (and a duplicate's twin) are read, not {read}"
    # a scheduled run names the newly skipped row and counts the 10 skipped again
    assert plan.skipped == [("k0010", dict(full.skipped)["k0010"])]
    assert plan.skipped_unlisted == 9
    assert sorted(named + plan.skipped) == sorted(full.skipped)


def test_a_changed_field_map_replans_every_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    write_mart(con, tmp_path, [row(i) for i in range(50)])
    set_based(con, contacts_sync())
    fields = dict(contacts_sync().fields)
    del fields["lms_engagement_score"]
    narrower = contacts_sync(fields=fields)
    plan, read = set_based(con, narrower)
    assert read == 50 and plan.writes == []  # re-planned; a dropped field clears nothing
    assert plan.unchanged == 0 and len(plan.noops) == 50


def test_erased_state_is_planned_again(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    sync = contacts_sync()
    write_mart(con, tmp_path, [row(i) for i in range(20)])
    set_based(con, sync)
    con.execute("delete from reverse_etl.sync_state where record_key = 'k0003'")
    plan, read = set_based(con, sync)
    assert read == 1 and [w.target for w in plan.writes] == ["5003"]
    assert isinstance(st.load_state(con, sync.name)["k0003"], ConfirmedState)


def test_a_quiet_plan_lets_the_next_run_stop_after_one_scan(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync = contacts_sync()
    rows = [row(i) for i in range(30)] + [row(900, contact=None)]
    write_mart(con, tmp_path, rows)
    set_based(con, sync)  # writes everything
    set_based(con, sync)  # finds it all unchanged: a quiet plan, fingerprints saved
    columns = list(COLUMNS)
    quiet = changed_rows.read_changed(con, sync, columns, has_state=True)
    assert quiet.quiet and quiet.unchanged == 30 and len(quiet.skipped) == 1
    plan, read = set_based(con, sync)
    assert (read, plan.unchanged, plan.writes) == (0, 30, [])

    # state changed behind the plan's back (an erase): the shortcut no longer applies
    con.execute("delete from reverse_etl.sync_state where record_key = 'k0007'")
    assert not changed_rows.read_changed(con, sync, columns, has_state=True).quiet
    plan, read = set_based(con, sync)
    assert read == 1 and [w.target for w in plan.writes] == ["5007"]
    # and a changed mart row does not slip through either
    set_based(con, sync)
    rows[3]["lms_engagement_score"] = 77.0
    write_mart(con, tmp_path, rows)
    plan, read = set_based(con, sync)
    assert read == 1 and plan.writes[0].properties == {"lms_engagement_score": "77"}


def build(con: duckdb.DuckDBPyConnection, tmp: Path, rows: list[dict[str, Any]], n: int) -> None:
    """What a pipeline build leaves: the mart, and the record of the build (n-th)."""
    write_mart(con, tmp, rows)
    build_record.write(con, build_record.BuildRecord(f"inputs {n}", True, float(n)))


def hidden_mart_read(con: duckdb.DuckDBPyConnection, sync: Sync) -> changed_rows.MartRead:
    """read_changed with the mart renamed away: it succeeds only if it never reads the mart."""
    con.execute("alter table marts.rev_etl__hubspot_contacts rename to hidden")
    try:
        return changed_rows.read_changed(
            con, sync, list(COLUMNS), has_state=True, list_skipped=False
        )
    finally:
        con.execute("alter table marts.hidden rename to rev_etl__hubspot_contacts")


def written_build(con: duckdb.DuckDBPyConnection, tmp: Path) -> tuple[Sync, list[dict[str, Any]]]:
    """A first build of 30 matched rows and one without a contact, planned and confirmed
    (everything written, the unmatched row remembered as skipped)."""
    sync = contacts_sync()
    rows = [row(i) for i in range(30)] + [row(900, contact=None)]
    build(con, tmp, rows, 1)
    set_based(con, sync)
    return sync, rows


def test_a_reused_build_lets_a_quiet_plan_skip_reading_the_mart(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync, rows = written_build(con, tmp_path)
    set_based(con, sync)  # quiet: saves the fingerprints with the build's ref
    quiet = hidden_mart_read(con, sync)  # the build was reused: the mart is not read
    assert quiet.quiet and (quiet.unchanged, quiet.skipped, quiet.skipped_unlisted) == (30, [], 1)
    plan, read = set_based(con, sync)
    assert (read, plan.unchanged, plan.writes, plan.skipped_count) == (0, 30, [], 1)
    listed = changed_rows.read_changed(con, sync, list(COLUMNS), has_state=True)
    assert listed.quiet and [k for k, _ in listed.skipped] == ["k0900"]  # a dry run names it

    # a new build with a changed row: read and planned
    rows[3]["lms_engagement_score"] = 77.0
    build(con, tmp_path, rows, 2)
    with pytest.raises(duckdb.CatalogException):
        hidden_mart_read(con, sync)
    plan, read = set_based(con, sync)
    assert read == 1 and plan.writes[0].properties == {"lms_engagement_score": "77"}
    # a new build that made the same mart: read once, then the shortcut again
    set_based(con, sync)
    build(con, tmp_path, rows, 3)
    plan, read = set_based(con, sync)
    assert (read, plan.writes, plan.unchanged, plan.skipped_count) == (0, [], 30, 1)
    assert hidden_mart_read(con, sync).quiet
    # the same build under a changed field map: re-planned
    fields = dict(sync.fields)
    del fields["lms_engagement_score"]
    plan, read = set_based(con, contacts_sync(fields=fields))
    assert read == 31 and len(plan.noops) == 30
    # state changed behind the plan's back (an erase): the shortcut no longer applies
    set_based(con, sync)
    set_based(con, sync)
    con.execute("delete from reverse_etl.sync_state where record_key = 'k0007'")
    plan, read = set_based(con, sync)
    assert read == 1 and [w.target for w in plan.writes] == ["5007"]
    # without the record (a manual dbt run), the mart's own fingerprint decides: the quiet
    # plan saved it with the build's ref, so the same mart is quiet after one pass over it
    set_based(con, sync)
    build_record.forget(con)
    with pytest.raises(duckdb.CatalogException):
        hidden_mart_read(con, sync)
    assert changed_rows.read_changed(con, sync, list(COLUMNS), has_state=True).quiet
    # and a changed mart under no record is diffed
    rows[5]["lms_engagement_score"] = 55.0
    write_mart(con, tmp_path, rows)
    plan, read = set_based(con, sync)
    assert read == 1 and plan.writes[0].properties == {"lms_engagement_score": "55"}
    settled = changed_rows.read_changed(con, sync, list(COLUMNS), has_state=True)
    assert (settled.rows, settled.unchanged) == ([], 30)
    set_based(con, sync)
    assert changed_rows.read_changed(con, sync, list(COLUMNS), has_state=True).quiet


class Recording:
    """A connection that keeps the SQL it was given (to see which queries a read ran)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.queries: list[str] = []

    def execute(self, query: str, *args: Any) -> duckdb.DuckDBPyConnection:
        self.queries.append(query)
        return self.con.execute(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)


def read_recorded(con: duckdb.DuckDBPyConnection, sync: Sync) -> tuple[Any, list[str]]:
    recording = Recording(con)
    found = changed_rows.read_changed(recording, sync, list(COLUMNS), has_state=True)  # type: ignore[arg-type]
    return found, [q for q in recording.queries if "left join" in q]


def test_a_new_build_of_the_same_mart_is_settled_by_sums_without_the_diff(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync, rows = written_build(con, tmp_path)
    build(con, tmp_path, rows, 2)
    found, diffs = read_recorded(con, sync)
    # the mart's hashes are those kept with the state and the skipped row: no join, no row
    assert diffs == [] and found.rows == [] and not found.quiet
    assert (found.unchanged, found.skipped_unlisted, found.skipped) == (30, 0, [("k0900", ANY)])
    plan, read = set_based(con, sync)
    assert (read, plan.writes, plan.unchanged, plan.skipped_count) == (0, [], 30, 1)
    assert hidden_mart_read(con, sync).quiet  # saved: the next run need not read the mart

    # one changed row: the sums differ and the diff finds it
    rows[4]["lms_engagement_score"] = 44.0
    build(con, tmp_path, rows, 3)
    found, diffs = read_recorded(con, sync)
    assert len(diffs) == 1 and [r["learner_key"] for r in found.rows] == ["k0004"]
    # a state row of a learner gone from the mart: the sums differ, the diff counts right
    set_based(con, sync)
    build(con, tmp_path, rows[1:], 4)
    found, diffs = read_recorded(con, sync)
    assert len(diffs) == 1 and found.rows == [] and found.unchanged == 29
    # a state row without its source hash (stamped by no plan yet): diffed, then planned
    con.execute("update reverse_etl.sync_state set source_hash = null where record_key = 'k0002'")
    build(con, tmp_path, rows[1:], 5)
    found, diffs = read_recorded(con, sync)
    assert len(diffs) == 1 and [r["learner_key"] for r in found.rows] == ["k0002"]


def test_a_row_without_a_key_is_refused_as_a_full_read_refuses_it(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync = contacts_sync()
    rows = [row(i) for i in range(20)]
    write_mart(con, tmp_path, rows)
    set_based(con, sync)
    keyless = row(50)
    keyless["learner_key"] = None
    write_mart(con, tmp_path, [*rows, keyless])

    expected = shape(full_read(con, sync))
    plan, read = set_based(con, sync)
    assert shape(plan) == expected
    # the keyless row is read and refused; the other rows still count as unchanged
    assert read == 1 and [r.category for r in plan.invalid] == ["missing_key"]
    assert plan.unchanged == 20


def test_a_first_plan_without_plan_tables_reads_every_row(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync = contacts_sync()
    keyless = row(50)
    keyless["learner_key"] = None
    write_mart(con, tmp_path, [row(i) for i in range(10)] + [keyless])
    read = changed_rows.read_changed(con, sync, list(COLUMNS), has_state=False)
    assert len(read.rows) == 11 and read.unchanged == 0 and read.skipped == []
    assert sorted(read.source_hashes) == [f"k{i:04d}" for i in range(10)]


def test_a_deleted_learner_leaves_a_contact_an_unread_live_learner_writes(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    sync = contacts_sync()
    rows = [row(i) for i in range(10)]
    rows[2]["hubspot_contact_id"] = rows[1]["hubspot_contact_id"]  # two learners, one contact
    write_mart(con, tmp_path, rows)
    set_based(con, sync)
    rows[1]["lms_deleted"] = True
    rows[3]["lms_deleted"] = True  # its contact is its own: cleared
    write_mart(con, tmp_path, rows)

    full = build_plan(sync, st.read_mart(con, sync.source)[1], st.load_state(con, sync.name))
    plan, read = set_based(con, sync)
    assert read == 2, "the live learner sharing the contact is not read"
    assert plan.tombstones == full.tombstones == {"left": ["k0001"], "cleared": ["k0003"]}
    assert shape(plan) == shape(full)
