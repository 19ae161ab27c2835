"""HubSpot extraction against the HubSpot emulator: full load, minimal reruns, changes only,
the search 10,000-result cap, archived records, removed associations and the daily limit."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from extract import run_hubspot
from lmsbridge_core.errors import (
    ExitCode,
    QuotaExhaustedError,
    TransientError,
    exit_code_for,
    is_retryable,
)
from sandbox.hubspot import HubSpotConfig
from sandbox.runner import SandboxProcess
from tests.extract.helpers import (
    assert_landed_every_record,
    count,
    manifest_counts,
    query,
    route_counts,
    settings_for,
)

FAST_SEARCH = (1000, 1.0)
INDEX_LAG_S = HubSpotConfig().search_index_lag_ms / 1000 + 0.5
OBJECT_FILES = {
    "contacts": "hubspot/contacts.jsonl",
    "companies": "hubspot/companies.jsonl",
    "deals": "hubspot/deals.jsonl",
    "calls": "hubspot/calls.jsonl",
    "emails": "hubspot/emails.jsonl",
    "meetings": "hubspot/meetings.jsonl",
    "owners": "hubspot/owners.jsonl",
    "associations__edges": "hubspot/associations.jsonl",
}


def _api(sb: SandboxProcess) -> httpx.Client:
    return httpx.Client(
        base_url=sb.hubspot_url,
        headers={"Authorization": f"Bearer {sb.hubspot_token}"},
        timeout=60,
    )


def test_first_run_lands_every_generated_record(large_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(large_sandbox, tmp_path)
    result = run_hubspot(settings, search_rate=FAST_SEARCH)
    assert_landed_every_record(settings, large_sandbox, "raw_hubspot", OBJECT_FILES)
    assert result.api_calls == large_sandbox.calls("hubspot")["total"]
    # Columns are typed from the property definitions, not left as strings.
    types = dict(
        query(
            settings,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_hubspot' and table_name = 'deals'",
        )
    )
    assert types["amount"] == "DOUBLE"
    assert types["closedate"] == "TIMESTAMP WITH TIME ZONE"
    assert types["archived"] == "BOOLEAN"


def test_rerun_without_changes_makes_only_the_minimal_calls(
    large_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(large_sandbox, tmp_path)
    run_hubspot(settings, search_rate=FAST_SEARCH)
    large_sandbox.control_post("hubspot", "calls/reset")

    # at the real search pace: six object types search back to back, past the 5/s limit
    result = run_hubspot(settings)

    assert result.rows_by_table == {}
    assert route_counts(large_sandbox, "hubspot") == {
        "GET /crm/v3/owners": 2,  # active + archived
        # engagements land their contract properties only: no definitions read for them
        "GET /crm/v3/properties/{object_type}": 3,
        "POST /crm/v3/objects/{object_type}/search": 6,
        "GET /crm/v3/objects/{object_type}": 6,  # archived=true lists
    }


def test_mutated_records_and_only_those_land(large_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(large_sandbox, tmp_path)
    run_hubspot(settings, search_rate=FAST_SEARCH)
    changed = large_sandbox.control_post("hubspot", "mutate", {"fraction": 0.01, "seed": 1})[
        "changed"
    ]
    assert sum(len(ids) for ids in changed.values()) > 0

    # HubSpot's search indexes edits seconds after them: a run right away may not see them
    # yet, the run after the lag does, and each edit lands exactly once over the two.
    early = run_hubspot(settings, search_rate=FAST_SEARCH)
    time.sleep(INDEX_LAG_S)
    result = run_hubspot(settings, search_rate=FAST_SEARCH)

    for object_type, ids in changed.items():
        landed = early.rows_by_table.get(object_type, 0) + result.rows_by_table.get(object_type, 0)
        assert landed == len(ids), object_type
    state = large_sandbox.control_get("hubspot", "state", {"object": "contacts"})["records"]
    names = {r["id"]: r["properties"].get("firstname") for r in state}
    for contact_id in changed["contacts"]:
        landed = query(
            settings, f"select firstname from raw_hubspot.contacts where id = '{contact_id}'"
        )
        assert landed == [(names[contact_id],)]


def test_more_than_10k_records_in_one_millisecond_are_all_found(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    run_hubspot(settings, search_rate=FAST_SEARCH)
    with _api(small_sandbox) as api:
        for batch in range(101):
            inputs = [
                {"properties": {"email": f"bulk{batch}-{i}@example.com", "firstname": f"B{i}"}}
                for i in range(100)
            ]
            response = api.post("/crm/v3/objects/contacts/batch/create", json={"inputs": inputs})
            assert response.status_code == 201, response.text
    total = small_sandbox.control_get("hubspot", "state")["counts"]["contacts"]
    touched = small_sandbox.control_post("hubspot", "touch", {"object": "contacts", "count": total})
    assert touched["touched"] == total > 10_000
    time.sleep(INDEX_LAG_S)  # let search index the new contacts, as HubSpot does in seconds

    small_sandbox.control_post("hubspot", "calls/reset")

    # Search keeps the real pacing (the emulator's search limit of 5/s is not a chaos knob).
    result = run_hubspot(settings)

    assert result.rows_by_table["contacts"] == total
    assert count(settings, "raw_hubspot.contacts") == total
    searches = route_counts(small_sandbox, "hubspot")["POST /crm/v3/objects/{object_type}/search"]
    assert searches > 10_000 // 200  # the cap forced a second query
    assert small_sandbox.calls("hubspot")["status_429"] == 0


def test_archived_records_are_marked_archived(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    run_hubspot(settings, search_rate=FAST_SEARCH)
    contact_id = query(settings, "select min(id) from raw_hubspot.contacts")[0][0]
    with _api(small_sandbox) as api:
        assert api.delete(f"/crm/v3/objects/contacts/{contact_id}").status_code == 204

    run_hubspot(settings, search_rate=FAST_SEARCH)

    rows = query(settings, f"select archived from raw_hubspot.contacts where id = '{contact_id}'")
    assert rows == [(True,)]


def test_a_portal_whose_property_names_overflow_a_url_extracts_whole(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    # 700 custom properties: their names alone pass the emulator's 414 limit (HubSpot refuses
    # such URLs), so a list asking for every property by name would be refused.
    names = [f"lmsbridge_test_custom_{i:04d}" for i in range(700)]
    assert len(",".join(names)) > 16_384
    inputs = [
        {
            "name": n,
            "label": n,
            "type": "string",
            "fieldType": "text",
            "groupName": "contactinformation",
        }
        for n in names
    ]
    settings = settings_for(small_sandbox, tmp_path)
    with _api(small_sandbox) as api:
        for start in range(0, len(inputs), 100):
            created = api.post(
                "/crm/v3/properties/contacts/batch/create",
                json={"inputs": inputs[start : start + 100]},
            )
            assert created.status_code in (200, 201), created.text
        contact_id = api.get("/crm/v3/objects/contacts", params={"limit": 1}).json()["results"][0][
            "id"
        ]
        patched = api.patch(
            f"/crm/v3/objects/contacts/{contact_id}", json={"properties": {names[-1]: "last one"}}
        )
        assert patched.status_code == 200, patched.text

    run_hubspot(settings, search_rate=FAST_SEARCH)

    landed = query(
        settings, f"select {names[-1]} from raw_hubspot.contacts where id = '{contact_id}'"
    )
    assert landed == [("last one",)]
    assert_landed_every_record(settings, small_sandbox, "raw_hubspot", OBJECT_FILES)


def test_removed_association_disappears(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    run_hubspot(settings, search_rate=FAST_SEARCH)
    edge = _one_edge(settings, "contacts", "companies")
    with _api(small_sandbox) as api:
        url = f"/crm/v4/objects/contacts/{edge['from_id']}/associations/companies/{edge['to_id']}"
        assert api.delete(url).status_code == 204

    run_hubspot(settings, full=True, search_rate=FAST_SEARCH)

    remaining = query(
        settings,
        "select count(*) from raw_hubspot.associations a join raw_hubspot.associations__edges e "
        "on e._dlt_parent_id = a._dlt_id where a.from_object_type = 'contacts' "
        f"and a.from_id = '{edge['from_id']}' and e.to_id = '{edge['to_id']}'",
    )
    assert remaining == [(0,)]
    parents = query(
        settings,
        f"select count(*) from raw_hubspot.associations where from_id = '{edge['from_id']}' "
        "and from_object_type = 'contacts' and to_object_type = 'companies'",
    )
    assert parents == [(1,)]


def _one_edge(settings: Any, from_type: str, to_type: str) -> dict[str, str]:
    rows = query(
        settings,
        "select a.from_id, e.to_id from raw_hubspot.associations a join "
        "raw_hubspot.associations__edges e on e._dlt_parent_id = a._dlt_id "
        f"where a.from_object_type = '{from_type}' and a.to_object_type = '{to_type}' "
        "order by 1, 2 limit 1",
    )
    return {"from_id": rows[0][0], "to_id": rows[0][1]}


def test_rate_limited_calls_are_retried(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    small_sandbox.control_post("hubspot", "chaos", {"burst_429": 1})
    run_hubspot(settings, search_rate=FAST_SEARCH)
    assert small_sandbox.calls("hubspot")["status_429"] == 1
    expected = manifest_counts(small_sandbox.data_dir)["hubspot/contacts.jsonl"]
    assert count(settings, "raw_hubspot.contacts") == expected


def test_a_429_storm_and_20pct_5xx_slow_the_extract_down_and_lose_nothing(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path)
    # Five in a row: the holds grow 1, 2, 4, 8 s to the whole 10 s window (`make chaos` runs 8).
    small_sandbox.control_post("hubspot", "chaos", {"burst_429": 5, "error_rate": 0.2, "seed": 3})
    result = run_hubspot(settings, search_rate=FAST_SEARCH)
    calls = small_sandbox.calls("hubspot")
    assert calls["status_429"] == 5
    assert result.api_calls > calls["status_429"]  # every retry was counted
    expected = manifest_counts(small_sandbox.data_dir)
    assert count(settings, "raw_hubspot.contacts") == expected["hubspot/contacts.jsonl"]
    assert count(settings, "raw_hubspot.deals") == expected["hubspot/deals.jsonl"]


def test_a_503_outage_longer_than_the_budget_is_transient(
    small_sandbox: SandboxProcess, tmp_path: Path
):
    settings = settings_for(small_sandbox, tmp_path).model_copy(update={"http_retry_budget_s": 3.0})
    small_sandbox.control_post("hubspot", "chaos", {"fail_after": 0})
    with pytest.raises(TransientError, match="HTTP 503") as info:
        run_hubspot(settings, search_rate=FAST_SEARCH)
    assert is_retryable(info.value)
    assert exit_code_for(info.value) == ExitCode.RUN_FAILED


def test_daily_limit_stops_with_a_clear_error(small_sandbox: SandboxProcess, tmp_path: Path):
    settings = settings_for(small_sandbox, tmp_path)
    small_sandbox.control_post("hubspot", "chaos", {"daily_limit": 3})
    with pytest.raises(QuotaExhaustedError, match="daily") as info:
        run_hubspot(settings, search_rate=FAST_SEARCH)
    assert not is_retryable(info.value)
    assert small_sandbox.hubspot_token not in str(info.value)
    # Not retried: exactly one 429 past the three allowed calls.
    assert small_sandbox.calls("hubspot")["status_429"] == 1
