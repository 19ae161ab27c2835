"""What people read after a run: the run summary, `status` at 80 columns, the dry-run plan,
rejected records with their email and HubSpot link, progress bars that finish."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from rich.console import Console
from rich.progress import Progress

from flows import ledger
from flows.summary import RunSummary, change_lines, render_markdown, to_record
from lmsbridge_cli.console import ProgressBars
from lmsbridge_cli.dry_run import print_dry_run
from lmsbridge_cli.status import print_status
from lmsbridge_core.settings import Settings
from reverse_etl import state as st
from reverse_etl.config import load_config
from reverse_etl.plan import SyncPlan, Write
from reverse_etl.rejections import RejectedRecord, describe, record_link
from reverse_etl.results import SyncRunResult


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(warehouse_path=tmp_path / "wh" / "lmsbridge.duckdb")


def _result(name: str, succeeded: int, **extra: object) -> SyncRunResult:
    result = SyncRunResult(name=name, planned=succeeded, sent=succeeded, succeeded=succeeded)
    for key, value in extra.items():
        setattr(result, key, value)
    return result


def _summary() -> RunSummary:
    rejected = RejectedRecord(
        "contacts", "k1", "INVALID_EMAIL", "bad", "ann@example.com",
        "https://app.hubspot.com/contacts/123/record/0-1/555",
    )  # fmt: skip
    contacts = _result("contacts", 2_275_000, calls=1_234_567, rejected=1, rejections=[rejected])
    tasks = _result("tasks", 5, by_owner_confirmed={"101": 3, "102": 2}, deferred=4)
    lms = _result("fields_to_lms", 7, calls=7)
    return RunSummary(
        flow="lmsbridge-sync", run_id="abcdef0123456789", syncs=[contacts, tasks, lms]
    )


def test_summary_says_what_changed_per_owner_and_who_was_rejected() -> None:
    summary = _summary()
    text = render_markdown(summary)
    assert "run `abcdef01`" in text
    assert "- 2,275,000 contacts updated" in text
    assert "- 5 tasks created (4 deferred to the next run by the cap)" in text
    assert "tasks per owner: owner 101: 3, owner 102: 2" in text
    assert "- 7 learners updated in the LMS" in text
    # Calls are told per API: the LMS sync's calls are LearnWorlds calls.
    assert "API calls: HubSpot 1,234,567, LearnWorlds 7" in text
    assert "| contacts | ann@example.com | INVALID_EMAIL: bad |" in text
    assert "(https://app.hubspot.com/contacts/123/record/0-1/555)" in text
    record = to_record(summary)
    assert json.loads(json.dumps(record)) == record
    assert change_lines(record)[0] == "2,275,000 contacts updated"


def test_archived_records_are_told_apart_from_written_ones() -> None:
    notes = _result("notes", 12, tombstones={"archived": 5})
    record = to_record(RunSummary(flow="lmsbridge-sync", syncs=[notes]))
    assert change_lines(record) == ["7 notes written (deleted learners: 5 archived)"]


def test_status_shows_one_row_per_run_with_whole_numbers_at_80_columns(
    settings: Settings,
) -> None:
    older = ledger.start(settings, "extract all", "direct")
    ledger.finish(settings, older, ledger.OK)
    entry = ledger.start(settings, "lmsbridge-sync", "direct")
    ledger.save_summary(settings, entry, to_record(_summary()))
    ledger.finish(settings, entry, ledger.OK)
    console = Console(record=True, width=80)
    print_status(settings, console)
    text = console.export_text()
    assert all(len(line) <= 80 for line in text.splitlines())
    runs = [line for line in text.splitlines() if entry.id[:8] in line and " sync " in line]
    assert len(runs) == 1
    # records sent, rejected and API calls of that run, whole
    assert "2,275,012" in runs[0] and "1,234,574" in runs[0]
    assert "…" not in runs[0]
    assert any(older.id[:8] in line for line in text.splitlines())
    assert "owner 101: 3" in text
    assert "ann@example.com" in text
    assert "https://app.hubspot.com/contacts/123/record/0-1/555" in text


def _warehouse_with_state(path: Path, learners: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with st.connect(str(path)) as con:
        st.ensure_tables(con)
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_learners as select 'k' || i as learner_key, "
            "'learner' || i || '@example.com' as email, cast(1000 + i as varchar) as "
            "hubspot_contact_id from range(?) t(i)",
            [learners],
        )
        st.confirm(
            con,
            "contacts",
            [
                (f"k{i}", str(1000 + i), "old", {"lms_engagement_score": str(i)})
                for i in range(learners)
            ],
        )


def test_dry_run_fits_on_one_screen_and_shows_before_and_after(
    settings: Settings, tmp_path: Path
) -> None:
    learners = 1500
    _warehouse_with_state(settings.warehouse_path, learners)
    properties = [f"lms_property_{n:02d}" for n in range(11)] + ["lms_engagement_score"]
    plan = SyncPlan("contacts", "contacts", unchanged=40)
    for i in range(learners):
        values = {p: "x" for p in properties} | {"lms_engagement_score": str(i + 1)}
        plan.writes.append(
            Write("update", "update", str(1000 + i), None, values, [f"k{i}"], {}, {})
        )
    plan.skipped = [(f"k{i}", "no matching HubSpot record (creation is off)") for i in range(30)]
    result = SyncRunResult(name="contacts", plan=plan)
    console = Console(record=True, width=80)
    out = tmp_path / "plan.csv"
    assert print_dry_run(settings, [result], console, csv_path=out) == learners * len(properties)
    lines = console.export_text().splitlines()
    assert len(lines) <= 25  # one screen, whatever the number of records
    assert all(len(line) <= 80 for line in lines)
    assert "contacts: 0 to create, 1,500 to update, 40 unchanged, 30 skipped" in lines[0]
    score = next(line for line in lines if "lms_engagement_score" in line)
    assert "1,500" in score and "0 → 1; 1 → 2; 2 → 3" in score
    assert any("learner0@example.com" in line for line in lines)  # skipped, named by email
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == learners * len(properties)
    first = next(r for r in rows if r["property"] == "lms_engagement_score")
    assert (first["record"], first["before"], first["after"]) == ("learner0@example.com", "0", "1")


def test_rejected_records_get_the_learners_email_and_a_link(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    _warehouse_with_state(path, 3)
    with st.connect(str(path)) as con:
        from reverse_etl.plan import Rejection

        st.reject(con, "run-1", "contacts", [Rejection("k2", "INVALID_EMAIL", "no", {})])
        st.reject(con, "run-2", "deals", [Rejection("9001", "INVALID_OPTION", "no", {})])
        syncs = {s.name: s for s in load_config(Path("reverse_etl/syncs.yml")).syncs}
        found = describe(
            con, {"contacts": "run-1", "deals": "run-2"}, syncs, (123, "app-eu1.hubspot.com")
        )
    assert found["contacts"] == [
        RejectedRecord(
            "contacts", "k2", "INVALID_EMAIL", "no", "learner2@example.com",
            "https://app-eu1.hubspot.com/contacts/123/record/0-1/1002",
        )
    ]  # fmt: skip
    assert found["deals"][0].link == "https://app-eu1.hubspot.com/contacts/123/record/0-3/9001"
    assert record_link(None, "contacts", "1") is None


def test_progress_bars_leave_no_step_spinning() -> None:
    with Progress() as progress:
        bars = ProgressBars(progress)
        bars("lms:users", 2000, None)
        bars("sync notes", 2275, 2275)
        bars("dbt build", 10, 263)
        shown = {t.description for t in progress.tasks if t.visible}
        bars.finish()
        totals = {t.description: (t.completed, t.total) for t in progress.tasks}
    # Finished steps leave the screen at once; the rest when the work ends.
    assert shown == {"lms:users", "dbt build"}
    assert not any(t.visible for t in progress.tasks)
    assert totals == {
        "lms:users": (2000, 2000), "sync notes": (2275, 2275), "dbt build": (10, 10)
    }  # fmt: skip


def test_account_details_come_from_the_emulator(sandbox: object) -> None:
    from reverse_etl.client import HubSpotClient

    env = sandbox.env()  # type: ignore[attr-defined]
    with HubSpotClient(
        env["LMSBRIDGE_HUBSPOT_BASE_URL"], env["LMSBRIDGE_HUBSPOT_ACCESS_TOKEN"]
    ) as client:
        portal_id, domain = client.account_details() or (0, "")
    assert portal_id > 0 and domain == "app.hubspot.com"
