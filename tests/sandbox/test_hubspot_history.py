"""propertiesWithHistory on get, list and batch read, fed by every write path."""

from __future__ import annotations

from typing import Any

from tests.sandbox.hubspot_support import Api


def _history(hs: Api, path: str, names: str) -> dict[str, list[dict[str, Any]]]:
    resp = hs.get(path, params={"propertiesWithHistory": names})
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["propertiesWithHistory"])


def test_single_and_batch_writes_add_versions_newest_first(hs: Api) -> None:
    created = hs.create("contacts", {"email": "h@x.com", "firstname": "One"})
    cid = created.json()["id"]
    path = f"/crm/v3/objects/contacts/{cid}"
    assert hs.patch(path, json={"properties": {"firstname": "Two"}}).status_code == 200
    batch = hs.post(
        "/crm/v3/objects/contacts/batch/update",
        json={"inputs": [{"id": cid, "properties": {"firstname": "Three"}}]},
    )
    assert batch.status_code == 200, batch.text
    upsert = hs.post(
        "/crm/v3/objects/contacts/batch/upsert",
        json={
            "inputs": [
                {"id": "h@x.com", "idProperty": "email", "properties": {"firstname": "Four"}}
            ]
        },
    )
    assert upsert.status_code == 200, upsert.text
    versions = _history(hs, path, "firstname,never_defined")
    assert list(versions) == ["firstname"]
    assert [v["value"] for v in versions["firstname"]] == ["Four", "Three", "Two", "One"]
    assert {(v["sourceType"], v["sourceId"]) for v in versions["firstname"]} == {
        ("API", "private-app")
    }
    stamps = [v["timestamp"] for v in versions["firstname"]]
    assert stamps == sorted(stamps, reverse=True)
    assert stamps[-1] == created.json()["createdAt"]


def test_loaded_values_and_calculated_values(hs: Api) -> None:
    loaded = _history(hs, "/crm/v3/objects/contacts/1001", "firstname")
    assert [(v["value"], v["sourceType"]) for v in loaded["firstname"]] == [("First1", "IMPORT")]
    hs.patch("/crm/v3/objects/deals/5000", json={"properties": {"dealstage": "closedwon"}})
    deal = _history(hs, "/crm/v3/objects/deals/5000", "dealstage,hs_is_closed_won")
    assert [v["value"] for v in deal["dealstage"]] == ["closedwon", "appointmentscheduled"]
    assert deal["hs_is_closed_won"][0]["value"] == "true"
    assert deal["hs_is_closed_won"][0]["sourceType"] == "CALCULATED"


def test_merge_and_clear_are_versions_too(hs: Api) -> None:
    hs.patch("/crm/v3/objects/contacts/1002", json={"properties": {"firstname": ""}})
    cleared = _history(hs, "/crm/v3/objects/contacts/1002", "firstname")
    assert [v["value"] for v in cleared["firstname"]] == ["", "First2"]
    hs.patch("/crm/v3/objects/contacts/1003", json={"properties": {"jobtitle": "CTO"}})
    merged = hs.post(
        "/crm/v3/objects/contacts/merge",
        json={"primaryObjectId": "1002", "objectIdToMerge": "1003"},
    )
    assert merged.status_code == 200, merged.text
    after = _history(hs, "/crm/v3/objects/contacts/1002", "jobtitle")
    assert after["jobtitle"][0]["value"] == "CTO"
    assert after["jobtitle"][0]["sourceType"] == "MERGE"


def test_list_and_batch_read_with_history(hs: Api) -> None:
    listed = hs.get(
        "/crm/v3/objects/contacts", params={"propertiesWithHistory": "lastname", "limit": 50}
    )
    assert listed.status_code == 200, listed.text
    first = listed.json()["results"][0]
    assert first["propertiesWithHistory"]["lastname"][0]["value"] == "Last0"
    too_many = hs.get(
        "/crm/v3/objects/contacts", params={"propertiesWithHistory": "lastname", "limit": 51}
    )
    assert too_many.status_code == 400
    read = hs.post(
        "/crm/v3/objects/contacts/batch/read",
        json={"propertiesWithHistory": ["lastname"], "inputs": [{"id": "1004"}]},
    )
    assert read.status_code == 200
    assert read.json()["results"][0]["propertiesWithHistory"]["lastname"][0]["value"] == "Last4"
