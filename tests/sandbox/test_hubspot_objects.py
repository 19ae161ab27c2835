"""CRM v3 single-record endpoints: list paging, get, create, update, archive, merge."""

from __future__ import annotations

import pytest

from tests.sandbox.hubspot_support import N_CONTACTS, Api


def _all_pages(hs: Api, path: str, **params: object) -> list[dict]:
    records, after, pages = [], None, 0
    while True:
        query = {**params, **({"after": after} if after else {})}
        body = hs.get(path, params=query).json()
        records += body["results"]
        pages += 1
        nxt = body.get("paging", {}).get("next")
        if not nxt:
            assert "paging" not in body  # absent on the last page, not {} or null
            return records
        after = nxt["after"]
        assert pages < 100


def test_list_defaults_to_ten_with_default_properties(hs: Api) -> None:
    body = hs.get("/crm/v3/objects/contacts").json()
    assert len(body["results"]) == 10
    props = body["results"][0]["properties"]
    assert set(props) <= {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }
    assert {"email", "hs_object_id"} <= set(props)
    assert "lifecyclestage" not in props
    assert (
        body["paging"]["next"]["after"]
        == body["paging"]["next"]["link"].split("after=")[1].split("&")[0]
    )


def test_list_pages_through_everything_once(hs: Api) -> None:
    records = _all_pages(hs, "/crm/v3/objects/contacts", limit=7)
    ids = [r["id"] for r in records]
    assert len(ids) == N_CONTACTS == len(set(ids))


def test_list_limit_over_100_is_400(hs: Api) -> None:
    assert hs.get("/crm/v3/objects/contacts", params={"limit": 101}).status_code == 400
    assert hs.get("/crm/v3/objects/contacts", params={"limit": 100}).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        [("properties", "lifecyclestage,lms_user_id")],
        [("properties", "lifecyclestage"), ("properties", "lms_user_id")],
    ],
)
def test_properties_comma_or_repeated(hs: Api, params: list) -> None:
    body = hs.get("/crm/v3/objects/contacts", params=[*params, ("limit", 2)]).json()
    first, second = body["results"]
    assert set(first["properties"]) >= {"lifecyclestage", "lms_user_id"}
    assert "email" not in first["properties"]
    assert second["properties"]["lms_user_id"] is None  # requested but never set


def test_unknown_requested_property_is_ignored(hs: Api) -> None:
    body = hs.get("/crm/v3/objects/contacts/1000", params={"properties": "nope_prop,email"}).json()
    assert body["properties"] == {"email": "person0@example.com"}


def test_object_type_ids_are_accepted(hs: Api) -> None:
    for type_id, name in [("0-1", "contacts"), ("0-2", "companies"), ("0-3", "deals")]:
        a = hs.get(f"/crm/v3/objects/{type_id}", params={"limit": 3}).json()
        b = hs.get(f"/crm/v3/objects/{name}", params={"limit": 3}).json()
        assert [r["id"] for r in a["results"]] == [r["id"] for r in b["results"]]
    assert hs.get("/crm/v3/objects/0-27").status_code == 200
    assert hs.get("/crm/v3/objects/0-46").status_code == 200


def test_list_associations_show_primary_and_unlabeled(hs: Api) -> None:
    body = hs.get(
        "/crm/v3/objects/contacts", params={"associations": "companies", "limit": 2}
    ).json()
    with_company, without = body["results"]
    types = {a["type"] for a in with_company["associations"]["companies"]["results"]}
    assert types == {"contact_to_company", "contact_to_company_unlabeled"}
    assert "associations" not in without


def test_get_by_email_and_404_body(hs: Api) -> None:
    found = hs.get("/crm/v3/objects/contacts/PERSON3@example.com", params={"idProperty": "email"})
    assert found.status_code == 200 and found.json()["id"] == "1003"
    missing = hs.get("/crm/v3/objects/contacts/999999")
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert missing.json()["message"] == "resource not found"


def test_get_by_non_unique_property_is_400(hs: Api) -> None:
    r = hs.get("/crm/v3/objects/contacts/u-2", params={"idProperty": "lms_user_id"})
    assert r.status_code == 400


def test_get_by_unique_property(hs: Api) -> None:
    prop = {
        "name": "ext_key",
        "label": "Ext",
        "type": "string",
        "fieldType": "text",
        "groupName": "contactinformation",
        "hasUniqueValue": True,
    }
    assert hs.post("/crm/v3/properties/contacts", json=prop).status_code == 201
    assert (
        hs.patch(
            "/crm/v3/objects/contacts/1004", json={"properties": {"ext_key": "K4"}}
        ).status_code
        == 200
    )
    r = hs.get("/crm/v3/objects/contacts/K4", params={"idProperty": "ext_key"})
    assert r.json()["id"] == "1004"


def test_create_update_archive_cycle(hs: Api) -> None:
    created = hs.create("contacts", {"email": " New@Example.COM ", "firstname": "N"})
    assert created.status_code == 201
    record = created.json()
    assert record["properties"]["email"] == "new@example.com"
    assert record["properties"]["hs_object_id"] == record["id"]
    rid = record["id"]
    updated = hs.patch(f"/crm/v3/objects/contacts/{rid}", json={"properties": {"firstname": "M"}})
    assert updated.status_code == 200 and updated.json()["properties"]["firstname"] == "M"
    assert updated.json()["updatedAt"] >= record["updatedAt"]
    assert hs.delete(f"/crm/v3/objects/contacts/{rid}").status_code == 204
    assert hs.get(f"/crm/v3/objects/contacts/{rid}").status_code == 404
    archived = hs.get(f"/crm/v3/objects/contacts/{rid}", params={"archived": "true"}).json()
    assert archived["archived"] is True and "archivedAt" in archived
    listed = _all_pages(hs, "/crm/v3/objects/contacts", limit=100, archived="true")
    assert [r["id"] for r in listed] == [rid]


def test_patch_by_email_id_property(hs: Api) -> None:
    r = hs.patch(
        "/crm/v3/objects/contacts/person5@example.com",
        params={"idProperty": "email"},
        json={"properties": {"lastname": "Changed"}},
    )
    assert r.status_code == 200 and r.json()["id"] == "1005"


def test_empty_string_clears_a_value(hs: Api) -> None:
    hs.patch("/crm/v3/objects/contacts/1001", json={"properties": {"firstname": ""}})
    body = hs.get("/crm/v3/objects/contacts/1001", params={"properties": "firstname"}).json()
    assert body["properties"]["firstname"] is None


def test_create_with_existing_email_is_409(hs: Api) -> None:
    r = hs.create("contacts", {"email": "person1@example.com"})
    assert r.status_code == 409
    assert r.json()["message"] == "Contact already exists. Existing ID: 1001"


def test_create_with_inline_association(hs: Api) -> None:
    body = {
        "properties": {"hs_timestamp": "2024-06-01T09:00:00Z", "hs_task_subject": "Call"},
        "associations": [
            {
                "to": {"id": "1002"},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
            }
        ],
    }
    task = hs.post("/crm/v3/objects/tasks", json=body)
    assert task.status_code == 201
    tid = task.json()["id"]
    got = hs.get(f"/crm/v3/objects/tasks/{tid}", params={"associations": "contacts"}).json()
    assert got["associations"]["contacts"]["results"] == [{"id": "1002", "type": "task_to_contact"}]
    back = hs.get("/crm/v4/objects/contacts/1002/associations/tasks").json()
    assert back["results"][0]["toObjectId"] == int(tid)
    assert back["results"][0]["associationTypes"][0]["typeId"] == 203


def test_inline_association_to_missing_record_is_400(hs: Api) -> None:
    body = {
        "properties": {"hs_note_body": "x", "hs_timestamp": "1717232400000"},
        "associations": [
            {
                "to": {"id": "424242"},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
            }
        ],
    }
    assert hs.post("/crm/v3/objects/notes", json=body).status_code == 400
    assert hs.get("/_sandbox/state").json()["counts"]["notes"] == 0


def test_merge_sets_merged_ids_and_hides_the_merged_contact(hs: Api) -> None:
    r = hs.post(
        "/crm/v3/objects/contacts/merge",
        json={"primaryObjectId": "1001", "objectIdToMerge": "1002"},
    )
    assert r.status_code == 200
    assert r.json()["id"] == "1001"
    primary = hs.get(
        "/crm/v3/objects/contacts/1001",
        params={"properties": "hs_merged_object_ids,hs_additional_emails"},
    ).json()
    assert primary["properties"]["hs_merged_object_ids"] == "1002"
    assert "person2@example.com" in primary["properties"]["hs_additional_emails"].split(";")
    # HubSpot: fetching a merged-away id returns the merged record, with the survivor's id.
    old = hs.get("/crm/v3/objects/contacts/1002")
    assert old.status_code == 200 and old.json()["id"] == "1001"
    ids = {r["id"] for r in _all_pages(hs, "/crm/v3/objects/contacts", limit=100)}
    assert "1002" not in ids and len(ids) == N_CONTACTS - 1
    # contact 1002 had a company; the primary inherits the association
    assoc = hs.get("/crm/v4/objects/contacts/1001/associations/companies").json()
    assert [a["toObjectId"] for a in assoc["results"]] == [102]


def test_lifecycle_only_moves_forward(hs: Api) -> None:
    # contact 1002 is marketingqualifiedlead in the dataset
    back = hs.patch(
        "/crm/v3/objects/contacts/1002", json={"properties": {"lifecyclestage": "lead"}}
    )
    assert back.status_code == 200

    def get() -> dict[str, str | None]:
        return hs.get(
            "/crm/v3/objects/contacts/1002",
            params={"properties": "lifecyclestage,hs_lifecyclestage_customer_date"},
        ).json()["properties"]

    assert get()["lifecyclestage"] == "marketingqualifiedlead"
    hs.patch("/crm/v3/objects/contacts/1002", json={"properties": {"lifecyclestage": "customer"}})
    after = get()
    assert after["lifecyclestage"] == "customer"
    assert after["hs_lifecyclestage_customer_date"] is not None
    hs.patch("/crm/v3/objects/contacts/1002", json={"properties": {"lifecyclestage": ""}})
    assert get()["lifecyclestage"] is None
    hs.patch("/crm/v3/objects/contacts/1002", json={"properties": {"lifecyclestage": "lead"}})
    assert get()["lifecyclestage"] == "lead"


def test_other_stage_is_outside_the_order(hs: Api) -> None:
    # contact 1004 is 'other': any stage may follow it
    hs.patch("/crm/v3/objects/contacts/1004", json={"properties": {"lifecyclestage": "subscriber"}})
    body = hs.get("/crm/v3/objects/contacts/1004", params={"properties": "lifecyclestage"}).json()
    assert body["properties"]["lifecyclestage"] == "subscriber"
