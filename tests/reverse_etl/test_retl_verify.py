"""Against the HubSpot emulator: `lmsbridge verify` reports nothing on a clean state, and a
property edited by hand, a contact and a note archived by hand, with exit code 5."""

from __future__ import annotations

import duckdb
import pytest
from typer.testing import CliRunner

from lmsbridge_cli.cli import app
from reverse_etl import run_syncs
from reverse_etl.verify import verify
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
    for key, value in {
        "LMSBRIDGE_HUBSPOT_BASE_URL": hub.url,
        "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN": TOKEN,
        "LMSBRIDGE_WAREHOUSE_PATH": str(hub.warehouse),
        "LMSBRIDGE_SYNC_CONFIG_PATH": str(hub.config),
    }.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["verify", "--only", "contacts"], env={"COLUMNS": "120"})
    assert result.exit_code == 5, result.output
    assert "archived" in result.output and "999" in result.output
    assert TOKEN not in result.output
