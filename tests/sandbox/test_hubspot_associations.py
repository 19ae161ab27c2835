"""Associations v4: batch read/create with HubSpot's type ids, both directions, per-record list."""

from __future__ import annotations

from typing import Any

from tests.sandbox.hubspot_support import Api


def read(hs: Api, src: str, dst: str, ids: list[str]) -> Any:
    return hs.post(
        f"/crm/v4/associations/{src}/{dst}/batch/read", json={"inputs": [{"id": i} for i in ids]}
    )


def create_input(from_id: str, to_id: str, type_id: int) -> dict[str, Any]:
    """One batch/create input with a single HubSpot-defined association type."""
    return {
        "from": {"id": from_id},
        "to": {"id": to_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def test_batch_read_numbers_labels_and_207_for_no_associations(hs: Api) -> None:
    resp = read(hs, "contacts", "companies", ["1000", "1001"])
    assert resp.status_code == 207
    body = resp.json()
    assert body["results"] == [
        {
            "from": {"id": "1000"},
            "to": [
                {
                    "toObjectId": 100,
                    "associationTypes": [
                        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
                        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
                    ],
                }
            ],
        }
    ]
    err = body["errors"][0]
    assert err["subCategory"] == "crm.associations.NO_ASSOCIATIONS_FOUND"
    assert err["context"]["fromObjectId"] == ["1001"]


def test_reverse_direction_is_derived(hs: Api) -> None:
    body = read(hs, "companies", "contacts", ["100"]).json()
    targets = {
        t["toObjectId"]: {a["typeId"] for a in t["associationTypes"]}
        for t in body["results"][0]["to"]
    }
    assert targets[1000] == {2, 280}
    deal_side = read(hs, "contacts", "deals", ["1003"]).json()
    assert deal_side["results"][0]["to"][0]["associationTypes"][0]["typeId"] == 4
    assert read(hs, "0-3", "0-2", ["5001"]).status_code == 200  # objectTypeIds work too


def test_batch_read_limit_is_1000(hs: Api) -> None:
    assert read(hs, "contacts", "companies", [str(i) for i in range(1001)]).status_code == 400
    assert read(hs, "contacts", "companies", [str(i) for i in range(1000)]).status_code == 207


def test_batch_create_with_real_type_ids(hs: Api) -> None:
    inputs = [create_input("5002", "1009", 3), create_input("5002", "1011", 3)]
    resp = hs.post("/crm/v4/associations/deals/contacts/batch/create", json={"inputs": inputs})
    assert resp.status_code == 201
    assert len(resp.json()["results"]) == 2
    got = hs.get("/crm/v4/objects/contacts/1011/associations/deals").json()
    assert got["results"] == [
        {
            "toObjectId": 5002,
            "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 4, "label": None}],
        }
    ]
    v3 = hs.get("/crm/v3/objects/deals/5002", params={"associations": "contacts"}).json()
    assert {a["id"] for a in v3["associations"]["contacts"]["results"]} == {"1002", "1009", "1011"}
    assert {a["type"] for a in v3["associations"]["contacts"]["results"]} == {"deal_to_contact"}


def test_batch_create_wrong_type_or_missing_record_is_207(hs: Api) -> None:
    inputs = [
        create_input("5002", "1009", 279),
        create_input("5002", "99999", 3),
        create_input("5003", "1009", 3),
    ]
    resp = hs.post("/crm/v4/associations/deals/contacts/batch/create", json={"inputs": inputs})
    assert resp.status_code == 207
    assert resp.json()["numErrors"] == 2 and len(resp.json()["results"]) == 1


def test_batch_create_limit_is_2000(hs: Api) -> None:
    one = {"from": {"id": "1"}, "to": {"id": "2"}, "types": []}
    resp = hs.post(
        "/crm/v4/associations/deals/contacts/batch/create", json={"inputs": [one] * 2001}
    )
    assert resp.status_code == 400


def test_note_and_task_types_and_archive(hs: Api) -> None:
    note = hs.post(
        "/crm/v3/objects/notes",
        json={
            "properties": {
                "hs_timestamp": "2024-06-01T09:00:00Z",
                "hs_note_body": "Completed course",
            },
            "associations": [
                {
                    "to": {"id": "1005"},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
                }
            ],
        },
    ).json()
    back = read(hs, "contacts", "notes", ["1005"]).json()
    assert back["results"][0]["to"][0] == {
        "toObjectId": int(note["id"]),
        "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 201, "label": None}],
    }
    archived = hs.post(
        "/crm/v4/associations/notes/contacts/batch/archive",
        json={"inputs": [{"from": {"id": note["id"]}, "to": [{"id": "1005"}]}]},
    )
    assert archived.status_code == 204
    assert read(hs, "contacts", "notes", ["1005"]).status_code == 207


def test_put_default_and_labeled_and_delete(hs: Api) -> None:
    resp = hs.put("/crm/v4/objects/contacts/1001/associations/default/companies/103")
    assert resp.status_code == 200
    types = hs.get("/crm/v4/objects/contacts/1001/associations/companies").json()["results"][0][
        "associationTypes"
    ]
    assert [t["typeId"] for t in types] == [279]
    labeled = hs.put(
        "/crm/v4/objects/contacts/1003/associations/companies/104",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}],
    )
    assert labeled.status_code == 201 and labeled.json()["labels"] == ["Primary"]

    def company_contacts() -> set[int]:
        body = hs.get("/crm/v4/objects/companies/104/associations/contacts").json()
        return {t["toObjectId"] for t in body["results"]}

    assert 1003 in company_contacts()
    assert hs.delete("/crm/v4/objects/contacts/1003/associations/companies/104").status_code == 204
    assert 1003 not in company_contacts()


def test_per_record_list_paging(hs: Api) -> None:
    body = hs.get("/crm/v4/objects/companies/100/associations/contacts", params={"limit": 1}).json()
    assert len(body["results"]) == 1
    nxt = body["paging"]["next"]["after"]
    rest = hs.get(
        "/crm/v4/objects/companies/100/associations/contacts", params={"after": nxt, "limit": 500}
    ).json()
    assert "paging" not in rest
    assert body["results"][0]["toObjectId"] not in {r["toObjectId"] for r in rest["results"]}
