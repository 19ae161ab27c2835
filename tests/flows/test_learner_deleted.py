"""A learner deleted in LearnWorlds between runs: the next run (its profile sweep) sees the
absence, and the reverse ETL applies each sync's on_delete policy once (syncs.yml: contacts
clear, notes archive, tasks leave); the run after writes nothing for that learner."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from sandbox.runner import SandboxProcess

LMSBRIDGE = [sys.executable, "-c", "from lmsbridge_cli.cli import app; app()"]


def _run(warehouse: Path, command: str = "run") -> dict[str, Any]:
    """One `lmsbridge run` (or `sync`) in its own process; the summary it saved."""
    done = subprocess.run([*LMSBRIDGE, command], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with closing(sqlite3.connect(warehouse.parent / "run_ledger.sqlite")) as con:
        row = con.execute(
            "select summary_json from runs order by started_at desc limit 1"
        ).fetchone()
    assert row is not None and row[0], "the run saved no summary"
    return dict(json.loads(row[0]))


def _victim(warehouse: Path) -> tuple[str, str, list[str]]:
    """(lms user id, contact id, note ids) of a matched learner with notes in HubSpot."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            """
            select c.lms_user_id, c.hubspot_contact_id, list(s.hubspot_id order by s.hubspot_id)
            from marts.rev_etl__hubspot_contacts as c
            join marts.rev_etl__hubspot_activities as a using (hubspot_contact_id)
            join reverse_etl.sync_state as s
                on s.sync_name = 'notes' and s.record_key = a.activity_key
            where c.hubspot_contact_id is not null and c.lms_user_id is not null
            group by all
            order by count(*) desc, c.lms_user_id
            limit 1
            """
        ).fetchall()
    assert rows, "no matched learner with notes in the small sandbox"
    user_id, contact_id, notes = rows[0]
    return str(user_id), str(contact_id), [str(n) for n in notes]


def test_a_deleted_learner_gets_the_policy_once(
    cli_env: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warehouse = tmp_path / "wh" / "lmsbridge.duckdb"
    _run(warehouse)
    user_id, contact_id, notes = _victim(warehouse)
    hubspot = httpx.Client(
        base_url=cli_env.hubspot_url,
        headers={"Authorization": f"Bearer {cli_env.hubspot_token}"},
    )
    before = hubspot.get(
        f"/crm/v3/objects/contacts/{contact_id}",
        params={"properties": "lms_user_id,lifecyclestage"},
    ).json()
    assert before["properties"]["lms_user_id"] == user_id

    cli_env.control_post("lms", f"/_sandbox/users/{user_id}/delete")
    # The next run's profile sweep is due at once.
    monkeypatch.setenv("LMSBRIDGE_LMS_PROFILE_SWEEP_HOURS", "0.00001")
    second = _run(warehouse)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        flagged = con.execute(
            "select is_deleted_in_lms from marts.dim_learners where lms_user_id = ?", [user_id]
        ).fetchone()
    assert flagged == (True,)
    assert second["tombstones"]["contacts"] == {"cleared": 1}
    assert second["tombstones"]["notes"] == {"archived": len(notes)}
    props = "lms_user_id,lms_engagement_score,lms_courses_completed_count,lifecyclestage"
    after = hubspot.get(f"/crm/v3/objects/contacts/{contact_id}", params={"properties": props})
    assert after.status_code == 200, "the contact itself stays: lmsbridge did not create it"
    cleared = after.json()["properties"]
    assert cleared["lms_user_id"] in (None, "") and cleared["lms_engagement_score"] in (None, "")
    # HubSpot's own property is not ours to clear
    assert cleared["lifecyclestage"] == before["properties"]["lifecyclestage"]
    for note_id in notes:
        live = hubspot.get(f"/crm/v3/objects/notes/{note_id}")
        assert live.status_code == 404, note_id
        archived = hubspot.get(f"/crm/v3/objects/notes/{note_id}", params={"archived": "true"})
        assert archived.status_code == 200 and archived.json()["archived"] is True

    history = {"propertiesWithHistory": "lms_user_id"}
    versions = hubspot.get(f"/crm/v3/objects/contacts/{contact_id}", params=history).json()
    # The marts still flag the learner: a sync alone shows whether the policy runs again.
    third = _run(warehouse, "sync")
    assert not third.get("tombstones"), "the policy ran once"
    again = hubspot.get(f"/crm/v3/objects/contacts/{contact_id}", params=history).json()
    assert again["propertiesWithHistory"] == versions["propertiesWithHistory"]
