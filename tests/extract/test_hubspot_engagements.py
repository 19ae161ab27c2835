"""Engagements (calls, emails, meetings) and their contacts land from the HubSpot emulator:
contract properties only, typed, and incrementally (a changed engagement and its edges only)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from extract import run_hubspot
from extract.hubspot_source import ObjectSchema
from extract.hubspot_tables import CONTRACT_PROPERTIES
from sandbox.runner import SandboxProcess
from tests.extract.helpers import manifest_counts, query, settings_for
from tests.extract.test_hubspot_extract import FAST_SEARCH, INDEX_LAG_S

KINDS = ("calls", "emails", "meetings")
EDGES = (
    "select a.from_object_type, count(*) from raw_hubspot.associations a "
    "join raw_hubspot.associations__edges e on e._dlt_parent_id = a._dlt_id "
    "where a.to_object_type = 'contacts' and a.from_object_type in ('calls', 'emails', 'meetings') "
    "group by 1 order by 1"
)


def test_engagement_schema_requests_contract_properties_only():
    portal = [
        {"name": "hs_email_html", "type": "string"},
        {"name": "hs_email_text", "type": "string"},
        {"name": "hs_timestamp", "type": "datetime"},
    ]
    schema = ObjectSchema("emails", portal)
    assert schema.names == sorted(CONTRACT_PROPERTIES["emails"])
    assert schema.columns()["hs_timestamp"]["data_type"] == "timestamp"
    # other objects still take every visible property of the portal
    assert "hs_email_text" in ObjectSchema("contacts", portal).names


def test_engagements_and_their_contacts_land_then_only_changes(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    run_hubspot(settings, search_rate=FAST_SEARCH)

    expected = manifest_counts(small_sandbox.data_dir)
    for kind in KINDS:
        landed = query(settings, f"select count(*) from raw_hubspot.{kind}")[0][0]
        assert landed == expected[f"hubspot/{kind}.jsonl"] > 0, kind
    columns = dict(
        query(
            settings,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_hubspot' and table_name = 'meetings'",
        )
    )
    assert columns["hs_timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert columns["hs_meeting_start_time"] == "TIMESTAMP WITH TIME ZONE"
    assert "hs_meeting_title" not in columns  # served by the emulator, not a contract property
    edges = dict(query(settings, EDGES))
    generated = [
        line
        for line in (small_sandbox.data_dir / "hubspot" / "associations.jsonl")
        .read_text()
        .split("\n")
        if '"to_type":"contacts"' in line and '"from_type":"deals"' not in line
    ]
    assert sum(edges.values()) == len(generated)

    call_id = query(settings, "select min(id) from raw_hubspot.calls")[0][0]
    # a contact the call is not associated with yet
    contact_id = query(
        settings,
        "select min(c.id) from raw_hubspot.contacts c where c.id not in ("
        "select e.to_id from raw_hubspot.associations a join raw_hubspot.associations__edges e "
        "on e._dlt_parent_id = a._dlt_id "
        f"where a.from_object_type = 'calls' and a.from_id = '{call_id}')",
    )[0][0]
    base = small_sandbox.hubspot_url
    headers = {"Authorization": f"Bearer {small_sandbox.hubspot_token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as api:
        patched = api.patch(
            f"/crm/v3/objects/calls/{call_id}", json={"properties": {"hs_call_status": "BUSY"}}
        )
        assert patched.status_code == 200, patched.text
        url = f"/crm/v4/objects/calls/{call_id}/associations/default/contacts/{contact_id}"
        assert api.put(url).status_code in (200, 201)
    time.sleep(INDEX_LAG_S)  # search sees the edit seconds later, as HubSpot's does

    result = run_hubspot(settings, search_rate=FAST_SEARCH)

    assert {k: v for k, v in result.rows_by_table.items() if k in KINDS} == {"calls": 1}
    status = query(settings, f"select hs_call_status from raw_hubspot.calls where id = '{call_id}'")
    assert status == [("BUSY",)]
    linked = query(
        settings,
        "select count(*) from raw_hubspot.associations a join raw_hubspot.associations__edges e "
        f"on e._dlt_parent_id = a._dlt_id where a.from_object_type = 'calls' "
        f"and a.from_id = '{call_id}' and e.to_id = '{contact_id}'",
    )
    assert linked == [(1,)]
