"""Two-way fields against both emulators: real extract, dbt build and sync (`run_direct`).

Edits are made the way people make them: in HubSpot's UI (control API, sourceType CRM_UI)
and in LearnWorlds' admin UI (control API), never through our own code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import yaml

from flows.pipeline import run_direct
from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "reverse_etl" / "syncs.yml"
# The installed `lmsbridge` command, run as its own process (as a scheduler would).
LMSBRIDGE = [sys.executable, "-c", "from lmsbridge_cli.cli import app; app()"]


def write_config(path: Path, **field_mappings: Any) -> Path:
    """The shipped syncs.yml with its field_mappings section changed as given."""
    config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    config["field_mappings"].update(field_mappings)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.fixture
def env(cli_env: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SandboxProcess:
    monkeypatch.setenv("LMSBRIDGE_SYNC_CONFIG_PATH", str(write_config(tmp_path / "syncs.yml")))
    # HubSpot's search lags writes; reads here must see the edits made just before.
    cli_env.control_post("hubspot", "chaos", {"search_index_lag_ms": 0})
    # No webhook receiver here: every run re-reads the learners' profiles instead (the
    # daily sweep, made due every run), so edits made in LearnWorlds are seen.
    monkeypatch.setenv("LMSBRIDGE_LMS_PROFILE_SWEEP_HOURS", "0.000001")
    return cli_env


def run() -> dict[str, Any]:
    summary = run_direct(Settings())
    return {r.name: r for r in summary.syncs}


def warehouse() -> duckdb.DuckDBPyConnection:
    # the in-process dbt build keeps its (read-write) connection open: open it the same way
    return duckdb.connect(os.environ["LMSBRIDGE_WAREHOUSE_PATH"])


def pairs(n: int) -> list[tuple[str, str]]:
    """(lms_user_id, hubspot_contact_id) of n matched learners."""
    with warehouse() as con:
        return [
            (str(u), str(c))
            for u, c in con.execute(
                "select distinct lms_user_id, hubspot_contact_id from marts.rev_etl__learner_fields "
                "where hubspot_contact_id is not null order by 1 limit ?",
                [n],
            ).fetchall()
        ]


def lms_user(sandbox: SandboxProcess, user_id: str) -> dict[str, Any]:
    users = sandbox.control_get("lms", "state", {"object": "users"})
    return next(u for u in users["records"] if u["id"] == user_id)


def contact(sandbox: SandboxProcess, contact_id: str) -> dict[str, str]:
    state = sandbox.control_get("hubspot", "state", {"object": "contacts"})
    rec = next(r for r in state["records"] if r["id"] == contact_id)
    return rec["properties"]


def hubspot_edit(sandbox: SandboxProcess, contact_id: str, **props: str) -> None:
    sandbox.control_post("hubspot", f"objects/contacts/{contact_id}/edit", {"properties": props})


def lms_edit(sandbox: SandboxProcess, user_id: str, **changes: Any) -> None:
    sandbox.control_post("lms", f"users/{user_id}/edit", changes)


def lms_write_calls(sandbox: SandboxProcess) -> int:
    return int(sandbox.calls("lms")["write_calls"])


def test_edits_go_the_mapped_way_and_a_round_trip_settles(env: SandboxProcess) -> None:
    first = run()
    assert first["fields_to_hubspot"].status == "ok" and first["fields_to_lms"].status == "ok"
    (user_a, contact_a), (user_b, contact_b) = pairs(2)
    before = lms_user(env, user_a)

    # People edit in HubSpot: a to_lms field, a to_hubspot field and an unmapped one.
    hubspot_edit(env, contact_a, jobtitle="Chief Learning Officer", company="Edited In CRM")
    hubspot_edit(env, contact_a, lastname="Renamed")
    # The same phone (a `both` field, HubSpot wins) edited on both sides.
    hubspot_edit(env, contact_b, phone="+44 20 3333 4444")
    lms_edit(env, user_b, fields={"phone": "+44 20 1111 2222"})

    second = run()
    after = lms_user(env, user_a)
    assert after["fields"]["cf_job_title"] == "Chief Learning Officer"
    assert after["fields"]["company"] == before["fields"]["company"], "to_hubspot never goes back"
    assert after["last_name"] == before["last_name"], "unmapped fields never move"
    # Never password, role, enrollments or email ownership.
    for key in ("email", "role", "is_admin", "is_suspended"):
        assert after[key] == before[key]
    assert lms_user(env, user_b)["fields"]["phone"] == "+44 20 3333 4444"
    assert contact(env, contact_b)["phone"] == "+44 20 3333 4444"
    # to_hubspot: the LMS value comes back over the hand edit once the LMS value changes,
    # not before (a person's edit of an LMS-owned field waits for the LMS).
    assert contact(env, contact_a)["company"] == "Edited In CRM"
    assert second["fields_to_lms"].succeeded >= 2
    assert second["fields_to_lms"].rejected == 0

    # A learner edits LMS-owned and shared fields in LearnWorlds: they reach HubSpot.
    lms_edit(env, user_a, fields={"company": "Edited In LMS", "phone": "+44 20 5555 0000"})
    third = run()
    assert contact(env, contact_a)["company"] == "Edited In LMS"
    assert contact(env, contact_a)["phone"] == "+44 20 5555 0000"
    assert third["fields_to_hubspot"].succeeded >= 2 and third["fields_to_lms"].sent == 0

    # The values we wrote are not echoed back: the next two runs write nothing either way.
    for _ in range(2):
        calls = lms_write_calls(env)
        hubspot_writes = int(env.calls("hubspot")["write_calls"])
        again = run()
        assert again["fields_to_lms"].sent == 0 and again["fields_to_hubspot"].sent == 0
        assert lms_write_calls(env) == calls
        assert int(env.calls("hubspot")["write_calls"]) == hubspot_writes


def test_refused_values_are_quarantined_and_the_rest_lands(
    env: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "LMSBRIDGE_SYNC_CONFIG_PATH", str(write_config(tmp_path / "validate.yml", validate=True))
    )
    run()
    (user_a, contact_a), (user_b, contact_b) = pairs(2)
    hubspot_edit(env, contact_a, phone="555.010.2233")  # the school's sign-up rules refuse dots
    hubspot_edit(env, contact_b, jobtitle="Head of Learning")
    result = run()["fields_to_lms"]
    assert result.rejected == 1 and result.succeeded >= 1
    assert lms_user(env, user_b)["fields"]["cf_job_title"] == "Head of Learning"
    assert lms_user(env, user_a)["fields"]["phone"] != "555.010.2233"
    with warehouse() as con:
        category, message = con.execute(
            "select category, message from reverse_etl.rejected_rows "
            "where sync_name = 'fields_to_lms'"
        ).fetchone()  # type: ignore[misc]
    assert category == "LMS_422" and "Phone" in message
    # Refused once, not resent every run until the value changes.
    calls = lms_write_calls(env)
    assert run()["fields_to_lms"].sent == 0
    assert lms_write_calls(env) == calls


def test_an_invalid_mapping_is_reported_and_skipped(
    env: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    config["field_mappings"]["fields"] += [
        {"lms": "fields.location", "hubspot": "no_such_property", "type": "string",
         "direction": "to_hubspot"},
        {"lms": "usage.courses_completed", "hubspot": "jobtitle", "type": "number",
         "direction": "to_hubspot"},
    ]  # fmt: skip
    path = tmp_path / "invalid.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("LMSBRIDGE_SYNC_CONFIG_PATH", str(path))
    run()
    user_a, contact_a = pairs(1)[0]
    hubspot_edit(env, contact_a, jobtitle="Still Syncs")
    result = run()["fields_to_lms"]
    assert {k for k, _ in result.invalid_mappings} == {
        "fields.location>no_such_property",
        "usage.courses_completed>jobtitle",
    }
    assert lms_user(env, user_a)["fields"]["cf_job_title"] == "Still Syncs"
    status = subprocess.run(
        [*LMSBRIDGE, "status"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "invalid field mappings" in status.stdout
    assert "no_such_property" in status.stdout


def _customers(sandbox: SandboxProcess, n: int) -> list[str]:
    """Contacts no learner matches, in the stage the creation filter picks."""
    url = sandbox.hubspot_url
    headers = {"Authorization": f"Bearer {sandbox.env()['LMSBRIDGE_HUBSPOT_ACCESS_TOKEN']}"}
    emails = [f"new.customer{i}@example.org" for i in range(n)]
    inputs = [
        {"properties": {"email": e, "firstname": "New", "lastname": f"Customer{i}",
                        "lifecyclestage": "customer"}}
        for i, e in enumerate(emails)
    ]  # fmt: skip
    response = httpx.post(
        f"{url}/crm/v3/objects/contacts/batch/create", json={"inputs": inputs}, headers=headers
    )
    assert response.status_code == 201, response.text
    return emails


def _learners_by_email(sandbox: SandboxProcess) -> dict[str, list[str]]:
    users = sandbox.control_get("lms", "state", {"object": "users"})["records"]
    by_email: dict[str, list[str]] = {}
    for u in users:
        by_email.setdefault(u["email"].strip().lower(), []).append(u["id"])
    return by_email


CREATION = {
    "enabled": True,
    "property": "lifecyclestage",
    "values": ["customer"],
    "tags": ["from-hubspot"],
    "send_registration_email": False,
}


@pytest.mark.timeout(300)
def test_learner_creation_is_exactly_once_across_a_sigkill(
    env: SandboxProcess, tmp_path: Path
) -> None:
    sandbox = env
    emails = _customers(sandbox, 6)
    # Land the new contacts and build with creation off: only the sync is killed. Every step
    # is its own process here (DuckDB lets one process write the warehouse).
    subprocess.run([*LMSBRIDGE, "run"], cwd=ROOT, env=dict(os.environ), check=True)
    assert not any(e in _learners_by_email(sandbox) for e in emails)
    config = write_config(tmp_path / "create.yml", learner_creation=CREATION)
    base = {**os.environ, "LMSBRIDGE_SYNC_CONFIG_PATH": str(config)}
    # The dry run says what would happen, both ways, and writes nothing.
    dry = subprocess.run(
        [*LMSBRIDGE, "sync", "--dry-run"], cwd=ROOT, env={**base, "COLUMNS": "200"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "two-way fields:" in dry.stdout and "learner_creation" in dry.stdout
    assert not any(e in _learners_by_email(sandbox) for e in emails)
    # Slow the LMS down so the kill lands between creations.
    # (one call per 2 s: the status call below, ~3 s on a busy machine, lands mid-way)
    slow = {**base, "LMSBRIDGE_LMS_RATE_CALLS": "1", "LMSBRIDGE_LMS_RATE_WINDOW_S": "2"}
    before = len(_learners_by_email(sandbox))
    process = subprocess.Popen(
        [*LMSBRIDGE, "sync"],
        cwd=ROOT,
        env=slow,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while len(_learners_by_email(sandbox)) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    # While it runs, `status` says so and shows how far the creation got.
    status = subprocess.run(
        [*LMSBRIDGE, "status"], cwd=ROOT, env={**base, "COLUMNS": "200"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    process.send_signal(signal.SIGKILL)
    assert "run in progress" in status.stdout and "sync learner_creation" in status.stdout
    _, stderr = process.communicate()
    killed_at = len(_learners_by_email(sandbox)) - before
    assert 1 <= killed_at < len(emails), f"killed after {killed_at}: {stderr[-2000:]!r}"
    finished = subprocess.run([*LMSBRIDGE, "sync"], cwd=ROOT, env=base, check=False)
    assert finished.returncode == 0
    by_email = _learners_by_email(sandbox)
    for email in emails:
        assert len(by_email.get(email, [])) == 1, f"{email}: {by_email.get(email)}"
    with warehouse() as con:
        rows = con.execute(
            "select status, lms_user_id, email from reverse_etl.learner_creations"
        ).fetchall()
    assert {e for _, _, e in rows} >= set(emails)
    for status, user_id, email in rows:
        if email in emails:
            assert status in ("created", "adopted") and by_email[email] == [user_id]
    created = [u for u in sandbox.control_get("lms", "state", {"object": "users"})["records"]
               if u["email"] in emails]  # fmt: skip
    assert all("from-hubspot" in u["tags"] for u in created)
    assert sandbox.control_get("lms", "outbox")["emails"] == [], "welcome email was off"


def test_resync_to_lms_aligns_what_a_normal_run_holds(env: SandboxProcess) -> None:
    from flows.pipeline import RESYNC_FLOW

    run()
    user_a, contact_a = pairs(1)[0]
    title = "Set In HubSpot"
    hubspot_edit(env, contact_a, jobtitle=title)
    run()
    assert lms_user(env, user_a)["fields"]["cf_job_title"] == title
    # A learner edits a HubSpot-owned field in LearnWorlds: a normal run leaves it alone...
    lms_edit(env, user_a, fields={"cf_job_title": "Edited In LMS"})
    held = run()["fields_to_lms"]
    assert lms_user(env, user_a)["fields"]["cf_job_title"] == "Edited In LMS"
    assert held.sent == 0
    # ...and `resync --direction to-lms` puts HubSpot's value back, once.
    summary = run_direct(Settings(), RESYNC_FLOW, direction="to_lms")
    resynced = {r.name: r for r in summary.syncs}["fields_to_lms"]
    assert lms_user(env, user_a)["fields"]["cf_job_title"] == title
    assert resynced.succeeded >= 1 and resynced.rejected == 0
    assert run()["fields_to_lms"].sent == 0
