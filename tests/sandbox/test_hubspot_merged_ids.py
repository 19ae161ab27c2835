"""A merged-away contact id keeps answering with the surviving record, as HubSpot does."""

from __future__ import annotations

from tests.sandbox.hubspot_support import Api

CONTACTS = "/crm/v3/objects/contacts"


def _merge(hs: Api, primary: str, merged: str) -> None:
    resp = hs.post(
        CONTACTS + "/merge", json={"primaryObjectId": primary, "objectIdToMerge": merged}
    )
    assert resp.status_code == 200, resp.text


def test_reads_and_updates_of_a_merged_away_id_land_on_the_survivor(hs: Api) -> None:
    # A chain: 1003 into 1002, then 1002 into 1001; 1003 must resolve to 1001.
    _merge(hs, "1002", "1003")
    _merge(hs, "1001", "1002")
    got = hs.get(CONTACTS + "/1003", params={"properties": "firstname"})
    assert got.status_code == 200, got.text
    assert got.json()["id"] == "1001"

    read = hs.post(CONTACTS + "/batch/read", json={"inputs": [{"id": "1002"}], "properties": []})
    assert read.status_code == 200, read.text
    assert [r["id"] for r in read.json()["results"]] == ["1001"]

    update = hs.post(
        CONTACTS + "/batch/update",
        json={"inputs": [{"id": "1003", "properties": {"jobtitle": "Merged CTO"}}]},
    )
    # The write lands on the survivor and the result carries the survivor's id, so a client
    # matching results by input id sees the merged-away id silently drop out.
    assert update.status_code == 200, update.text
    assert [r["id"] for r in update.json()["results"]] == ["1001"]
    after = hs.get(CONTACTS + "/1001", params={"properties": "jobtitle"}).json()
    assert after["properties"]["jobtitle"] == "Merged CTO"
