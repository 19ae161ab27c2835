"""`lmsbridge erase`: one person leaves every file of the warehouse folder and HubSpot, the
rest stays, and the next extract still works (against the small sandbox)."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import httpx
from typer.testing import CliRunner

from extract.landing import LandingWriter
from flows.erase import normalize_email
from lmsbridge_cli.cli import app
from lmsbridge_core import build_record
from sandbox.runner import SandboxProcess

runner = CliRunner()
# The first run in its own process: a run in this one leaves DuckDB instances cached here
# that would hold the warehouse open across the erase (the CLI is one process per command).
LMSBRIDGE = [sys.executable, "-c", "from lmsbridge_cli.cli import app; app()"]


def _learners(warehouse: Path) -> list[tuple[str, str, str]]:
    """(email, lms_user_id, hubspot_contact_id) of the learners matched to a contact."""
    with duckdb.connect(str(warehouse)) as con:
        return con.execute(
            "select email, lms_user_id, hubspot_contact_id from marts.dim_learners"
            " where hubspot_contact_id is not null and lms_user_id is not null order by learner_key"
        ).fetchall()


def _holding(folder: Path, needle: bytes) -> list[str]:
    """Every file under `folder` whose bytes (gzip ones also decompressed) hold `needle`."""
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data += gzip.decompress(data)
        if needle.lower() in data.lower():
            found.append(str(path.relative_to(folder)))
    return found


def _event(user_id: str, email: str) -> dict[str, object]:
    return {
        "version": 2,
        "type": "userUpdated",
        "trigger": "user_updated",
        "school_id": "60004a6de11ac0798538ccc2",
        "data": {"user": {"id": user_id, "email": email, "username": "x"}},
    }


def test_erase_removes_the_person_from_every_file_and_the_next_extract_works(
    cli_env: SandboxProcess, tmp_path: Path
) -> None:
    folder = tmp_path / "wh"
    warehouse = folder / "lmsbridge.duckdb"
    subprocess.run([*LMSBRIDGE, "run"], check=True, capture_output=True)
    with duckdb.connect(str(warehouse)) as con:
        assert build_record.read(con) is not None  # the run's build, reusable while it stands
    (email, lms_id, contact_id), (other_email, other_id, _) = _learners(warehouse)[:2]
    writer = LandingWriter(folder / "webhooks")
    writer.append(_event(lms_id, email), b"person")
    writer.append(_event(other_id, other_email), b"other")
    assert _holding(folder, email.encode())

    # As typed by a person: other case, spaces around.
    typed = f"  {email.upper()} "
    dry = runner.invoke(app, ["erase", "--email", typed, "--dry-run", "--hubspot"])
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output
    assert _holding(folder, email.encode()), "a dry run changes nothing"

    result = runner.invoke(app, ["erase", "--email", typed, "--hubspot"])
    assert result.exit_code == 0, result.output
    assert email.lower() not in result.output.lower()
    assert _holding(folder, normalize_email(email).encode()) == []
    assert _holding(folder, lms_id.encode()) == []

    log_lines = (folder / "erasure_log.jsonl").read_text().splitlines()
    assert len(log_lines) == 1
    assert email.lower() not in log_lines[0].lower() and lms_id not in log_lines[0]
    record = json.loads(log_lines[0])
    assert record["rows"]["raw_lms.users"] == 1 and record["hubspot"].startswith("deleted")

    # HubSpot forgot the contact: not even archived.
    hubspot = httpx.Client(
        base_url=cli_env.hubspot_url, headers={"Authorization": f"Bearer {cli_env.hubspot_token}"}
    )
    gone = hubspot.get(f"/crm/v3/objects/contacts/{contact_id}", params={"archived": "true"})
    assert gone.status_code == 404

    # The marts changed outside dbt: the next run builds again and reads them again.
    with duckdb.connect(str(warehouse)) as con:
        assert build_record.read(con) is None

    # The rest is intact: other learners, dbt's views (copied into the new file), and the
    # next extract (dlt state kept, load packages gone) lands the other learner's webhook.
    assert other_email in [row[0] for row in _learners(warehouse)]
    with duckdb.connect(str(warehouse)) as con:
        users = con.execute("select count(*) from staging.stg_learnworlds__users").fetchone()
    assert users is not None and users[0] > 1
    extract = runner.invoke(app, ["extract"])
    assert extract.exit_code == 0, extract.output
    with duckdb.connect(str(warehouse)) as con:
        landed = con.execute(
            "select count(*) from raw_lms.webhook_events r where contains(r::varchar, ?)",
            [other_id],
        ).fetchone()
    assert landed is not None and landed[0] == 1


def test_gdpr_delete_of_an_unknown_email_is_204_and_of_an_unknown_id_404(
    cli_env: SandboxProcess,
) -> None:
    hubspot = httpx.Client(
        base_url=cli_env.hubspot_url, headers={"Authorization": f"Bearer {cli_env.hubspot_token}"}
    )
    path = "/crm/v3/objects/contacts/gdpr-delete"
    by_email = {"objectId": "nobody@example.invalid", "idProperty": "email"}
    assert hubspot.post(path, json=by_email).status_code == 204
    assert hubspot.post(path, json={"objectId": "999999999"}).status_code == 404


def test_only_whole_addresses_and_the_persons_ids_are_deleted(tmp_path: Path) -> None:
    from flows.erase_warehouse import count_or_delete, identify

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw_lms; create schema marts")
    con.execute("create table raw_lms.users (id varchar, email varchar, _dlt_id varchar)")
    con.execute(
        "insert into raw_lms.users values ('aaaaaaaaaaaaaaaaaaaaaaaa', ' Ann@X.com', 'd1'),"
        " ('bbbbbbbbbbbbbbbbbbbbbbbb', 'joann@x.com', 'd2')"
    )
    con.execute("create table raw_lms.users__tags (value varchar, _dlt_root_id varchar)")
    con.execute("insert into raw_lms.users__tags values ('vip', 'd1'), ('vip', 'd2')")
    con.execute("create table marts.facts (lms_user_id varchar, hubspot_contact_id varchar)")
    con.execute(
        "insert into marts.facts values ('aaaaaaaaaaaaaaaaaaaaaaaa', null), (null, '7'),"
        " ('bbbbbbbbbbbbbbbbbbbbbbbb', '8')"
    )
    person = identify(con, normalize_email("ANN@x.com "))
    assert person.long_ids == {"aaaaaaaaaaaaaaaaaaaaaaaa"}
    counts = count_or_delete(con, person, delete=True)
    assert counts == {"raw_lms.users": 1, "raw_lms.users__tags": 1, "marts.facts": 1}
    assert con.execute("select email from raw_lms.users").fetchall() == [("joann@x.com",)]
    assert con.execute("select count(*) from marts.facts").fetchone() == (2,)


def test_landing_lines_are_blanked_in_place_so_offsets_stay_valid(tmp_path: Path) -> None:
    from extract.landing import read_new
    from flows.erase_files import clean

    writer = LandingWriter(tmp_path)
    writer.append(_event("u1", "ann@x.com"), b"1")
    writer.append(_event("u2", "bob@x.com"), b"2")
    path = next(tmp_path.glob("*.jsonl"))
    size = path.stat().st_size
    result = clean(tmp_path, [b"ann@x.com"], skip=set(), apply=True)
    assert result.lines_removed == 1 and path.stat().st_size == size
    events = [e for chunk in read_new(tmp_path, {}) for e in chunk.events]
    assert [e["data"]["user"]["id"] for e in events] == ["u2"]
