"""Against the HubSpot emulator: `lmsbridge verify` reports nothing on a clean state, and a
property edited by hand (by a person, per its history), a contact and a note archived by hand,
with exit code 5; people's edits of mapped fields HubSpot owns are two-way edits, exit 0."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest
from typer.testing import CliRunner

from lmsbridge_cli.cli import app
from reverse_etl import field_state as fs
from reverse_etl import run_syncs
from reverse_etl.field_sync import TO_HUBSPOT, TO_LMS
from reverse_etl.verify import DDL, Drift, VerifyReport, _record, verify
from tests.reverse_etl.retl_support import activity_rows, contact_rows, list_all, write_marts
from tests.reverse_etl.test_retl_sync_integration import TOKEN, Hub

SYNCS = ["contacts", "notes"]


def test_verify_reports_hand_edits_and_archived_records_and_nothing_when_clean(
    fast_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = fast_hub
    with_email = [c for c in hub.contacts if c["properties"].get("email")]
    contacts = contact_rows(with_email, 6)
    notes = activity_rows(with_email, 3)
    write_marts(
        hub.warehouse, {"rev_etl__hubspot_contacts": contacts, "rev_etl__hubspot_activities": notes}
    )
    assert all(r.status == "ok" for r in run_syncs(hub.settings(), only=SYNCS))

    # A clean state: nothing drifted, and no write call was made to find that out.
    hub.reset_calls()
    clean = verify(hub.settings(), only=SYNCS)
    assert clean.drift == []
    assert clean.checked == {"contacts": 6, "notes": 3}
    assert hub.calls()["write_calls"] == 0 and clean.calls == 2  # one batch read per sync

    # By hand in HubSpot: a synced value changed, a contact archived, a note deleted.
    edited = contacts[1]["hubspot_contact_id"]
    hub.sandbox.control_post(
        "hubspot", f"/_sandbox/objects/contacts/{edited}/edit",
        {"properties": {"lms_engagement_score": "999"}},
    )  # fmt: skip
    archived = contacts[4]["hubspot_contact_id"]
    assert hub.api("DELETE", f"/crm/v3/objects/contacts/{archived}").status_code == 204
    by_key = {
        r["properties"]["lms_activity_key"]: r["id"]
        for r in list_all(hub.url, TOKEN, "notes", ["lms_activity_key"])
    }
    note_id = by_key[notes[0]["activity_key"]]
    assert hub.api("DELETE", f"/crm/v3/objects/notes/{note_id}").status_code == 204

    report = verify(hub.settings(), only=SYNCS)
    found = {(d.sync_name, d.hubspot_id, d.kind, d.property) for d in report.drift}
    assert found == {
        ("contacts", edited, "edited", "lms_engagement_score"),
        ("contacts", archived, "archived", None),
        ("notes", note_id, "archived", None),
    }
    score = next(d for d in report.drift if d.kind == "edited")
    assert (float(score.ours or "nan"), score.theirs) == (
        contacts[1]["lms_engagement_score"],
        "999",
    )
    # Who: the property's history says a person, in HubSpot's UI, just now.
    assert (score.edited_by, score.edited_source) == ("person", "CRM_UI (userId:1)")
    assert score.edited_at is not None and score.edited_at.year == datetime.now(UTC).year
    # The clean run's two reads, one archived look-up per sync, and one history read for the
    # one edited record (the clean run above made none: `clean.calls == 2`).
    assert report.calls == clean.calls + 2 + 1
    with duckdb.connect(str(hub.warehouse), read_only=True) as con:
        runs = con.execute(
            "select records_drifted from reverse_etl.verify_runs order by verified_at"
        ).fetchall()
        stored = con.execute(
            "select count(*) from reverse_etl.verify_results where verify_id = ?",
            [report.verify_id],
        ).fetchone()
    assert runs == [(0,), (3,)] and stored == (3,)

    # The command: a table people read and exit code 5 (drift found).
    _point_cli_at(hub, monkeypatch)
    result = CliRunner().invoke(app, ["verify", "--only", "contacts"], env={"COLUMNS": "120"})
    assert result.exit_code == 5, result.output
    assert "archived" in result.output and "999" in result.output
    assert "person" in result.output
    assert TOKEN not in result.output


def _contact_write(hub: Hub, contact_id: str, properties: dict[str, str]) -> None:
    """A write with our token: what a fields_to_hubspot run does."""
    response = hub.api(
        "PATCH", f"/crm/v3/objects/contacts/{contact_id}", {"properties": properties}
    )
    assert response.status_code == 200, response.text


def test_people_editing_fields_hubspot_owns_is_a_two_way_edit_not_drift(
    fast_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """syncs.yml maps phone (both), jobtitle (to_lms) and company (to_hubspot)."""
    hub = fast_hub
    ids = [c["id"] for c in hub.contacts[:4]]
    agreed = {"phone": "5550100", "jobtitle": "Engineer", "company": "Acme"}
    keys = {"phone": "fields.phone>phone", "jobtitle": "fields.cf_job_title>jobtitle",
            "company": "fields.company>company"}  # fmt: skip
    with duckdb.connect(str(hub.warehouse)) as con:
        fs.ensure_tables(con)
        for n, contact in enumerate(ids):
            _contact_write(hub, contact, agreed)
            fs.agree(
                con,
                [(f"learner-{n}", keys[p], f"u{n}", contact, v) for p, v in agreed.items()],
                written_to="hubspot",
            )
    hub.reset_calls()
    clean = verify(hub.settings(), only=[TO_HUBSPOT, TO_LMS])
    assert clean.drift == [] and clean.checked == {TO_HUBSPOT: 4, TO_LMS: 4}
    assert clean.calls == 1  # the mapped properties of 4 contacts, no history read
    assert hub.calls()["write_calls"] == 0

    def edit(contact: str, properties: dict[str, str]) -> None:
        hub.sandbox.control_post(
            "hubspot", f"/_sandbox/objects/contacts/{contact}/edit", {"properties": properties}
        )

    edit(ids[0], {"phone": "5550199"})  # both: HubSpot's side may change it
    edit(ids[1], {"jobtitle": "CTO"})  # to_lms: HubSpot owns it
    # Our own write that a run never recorded as agreed (it stopped first).
    _contact_write(hub, ids[2], {"jobtitle": "Lead"})
    report = verify(hub.settings(), only=[TO_HUBSPOT, TO_LMS])
    found = {(d.hubspot_id, d.kind, d.property, d.edited_by) for d in report.drift}
    assert found == {
        (ids[0], "two_way_edit", "phone", "person"),
        (ids[1], "two_way_edit", "jobtitle", "person"),
        (ids[2], "two_way_edit", "jobtitle", "lmsbridge"),
    }
    assert not report.has_drift and report.records_drifted == 0 and report.two_way_edits == 3
    assert report.calls == 2  # the values, then one history read for the 3 edited contacts

    _point_cli_at(hub, monkeypatch)
    runner = CliRunner()
    result = runner.invoke(app, ["verify", "--only", TO_LMS], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "two_way_edit" in result.output and "flow to LearnWorlds" in result.output

    # A to_hubspot field is ours: a person's edit there is drift, exit 5.
    edit(ids[3], {"company": "Globex"})
    result = runner.invoke(app, ["verify", "--only", TO_HUBSPOT], env={"COLUMNS": "160"})
    assert result.exit_code == 5, result.output
    with duckdb.connect(str(hub.warehouse), read_only=True) as con:
        rows = con.execute(
            "select kind, property, ours, theirs, edited_by, edited_source "
            "from reverse_etl.verify_results where sync_name = ?",
            [TO_HUBSPOT],
        ).fetchall()
        two_way = con.execute(
            "select records_drifted, two_way_edits from reverse_etl.verify_runs "
            "order by verified_at"
        ).fetchall()
    assert rows == [("edited", "company", "Acme", "Globex", "person", "CRM_UI (userId:1)")]
    assert two_way == [(0, 0), (0, 3), (0, 3), (1, 0)]


def test_verify_tables_made_before_edited_by_gain_the_columns_in_place() -> None:
    old = DDL.split("-- Added later")[0]
    with duckdb.connect(":memory:") as con:
        con.execute(old)
        con.execute("insert into reverse_etl.verify_runs values ('v0', now(), 1, 1, 1)")
        drift = Drift("contacts", "k", "1", "edited", "p", "a", "b", "person", "CRM_UI (u)")
        _record(con, VerifyReport("v1", {"contacts": 1}, [drift], 3))
        rows = con.execute(
            "select verify_id, kind, edited_by, edited_source from reverse_etl.verify_results"
        ).fetchall()
        runs = con.execute(
            "select verify_id, two_way_edits from reverse_etl.verify_runs order by verify_id"
        ).fetchall()
    assert rows == [("v1", "edited", "person", "CRM_UI (u)")]
    assert runs == [("v0", None), ("v1", 0)]


def _point_cli_at(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's settings: the emulator, its token, the test's warehouse and sync config."""
    for key, value in {
        "LMSBRIDGE_HUBSPOT_BASE_URL": hub.url,
        "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN": TOKEN,
        "LMSBRIDGE_WAREHOUSE_PATH": str(hub.warehouse),
        "LMSBRIDGE_SYNC_CONFIG_PATH": str(hub.config),
    }.items():
        monkeypatch.setenv(key, value)
