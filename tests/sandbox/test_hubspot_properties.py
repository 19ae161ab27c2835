"""Properties API: definitions, type/fieldType pairing, groups, batch create/read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.hubspot_support import Api


def prop(
    name: str, ptype: str = "string", field_type: str = "text", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "label": name.title(),
        "type": ptype,
        "fieldType": field_type,
        "groupName": "contactinformation",
        **extra,
    }


def test_list_returns_everything_without_paging(hs: Api) -> None:
    body = hs.get("/crm/v3/properties/contacts").json()
    assert "paging" not in body
    names = {p["name"] for p in body["results"]}
    assert {
        "email",
        "lifecyclestage",
        "hs_additional_emails",
        "hs_merged_object_ids",
        "hubspot_owner_id",
        "lms_user_id",
        "createdate",
        "lastmodifieddate",
    } <= names


@pytest.mark.parametrize(
    ("object_type", "expected"),
    [
        (
            "deals",
            {"dealname", "dealstage", "pipeline", "amount", "closedate", "hs_lastmodifieddate"},
        ),
        ("companies", {"name", "domain", "hs_lastmodifieddate"}),
        (
            "tasks",
            {
                "hs_timestamp",
                "hs_task_subject",
                "hs_task_body",
                "hs_task_status",
                "hs_task_priority",
                "hs_task_type",
            },
        ),
        ("notes", {"hs_timestamp", "hs_note_body"}),
    ],
)
def test_seeded_defaults_per_object(hs: Api, object_type: str, expected: set[str]) -> None:
    names = {p["name"] for p in hs.get(f"/crm/v3/properties/{object_type}").json()["results"]}
    assert expected <= names


def test_lifecycle_options_in_stage_order(hs: Api) -> None:
    body = hs.get("/crm/v3/properties/contacts/lifecyclestage").json()
    assert body["type"] == "enumeration"
    assert [o["value"] for o in body["options"]] == [
        "subscriber",
        "lead",
        "marketingqualifiedlead",
        "salesqualifiedlead",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    ]
    created = hs.get("/crm/v3/properties/contacts/createdate").json()
    assert created["modificationMetadata"]["readOnlyValue"] is True


def test_create_get_and_duplicate_409(hs: Api) -> None:
    resp = hs.post("/crm/v3/properties/contacts", json=prop("lms_score", "number", "number"))
    assert resp.status_code == 201
    assert resp.json()["hubspotDefined"] is False
    assert hs.get("/crm/v3/properties/contacts/lms_score").json()["type"] == "number"
    assert (
        hs.post(
            "/crm/v3/properties/contacts", json=prop("lms_score", "number", "number")
        ).status_code
        == 409
    )


@pytest.mark.parametrize(
    "body",
    [
        prop("bad_pair", "number", "text"),
        prop("bad_pair", "bool", "select"),
        prop("bad_pair", "date", "number"),
        prop("Bad-Name"),
        prop("1starts_with_digit"),
        prop("bad_type", "integer", "number"),
        prop("no_group", groupName="missing_group"),
    ],
)
def test_bad_definitions_are_400(hs: Api, body: dict[str, Any]) -> None:
    resp = hs.post("/crm/v3/properties/contacts", json=body)
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR"


def test_missing_required_field_is_400(hs: Api) -> None:
    resp = hs.post("/crm/v3/properties/contacts", json={"name": "x", "label": "x"})
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR"


def test_batch_create_207_on_partial_and_batch_read(hs: Api) -> None:
    resp = hs.post(
        "/crm/v3/properties/contacts/batch/create", json={"inputs": [prop("p_one"), prop("email")]}
    )
    assert resp.status_code == 207
    assert [p["name"] for p in resp.json()["results"]] == ["p_one"]
    assert resp.json()["numErrors"] == 1
    ok = hs.post("/crm/v3/properties/contacts/batch/create", json={"inputs": [prop("p_two")]})
    assert ok.status_code == 201
    read = hs.post(
        "/crm/v3/properties/contacts/batch/read",
        json={"inputs": [{"name": "p_one"}, {"name": "p_two"}, {"name": "ghost"}]},
    )
    assert read.status_code == 207
    assert sorted(p["name"] for p in read.json()["results"]) == ["p_one", "p_two"]


def test_patch_property(hs: Api) -> None:
    hs.post("/crm/v3/properties/contacts", json=prop("note_text"))
    resp = hs.patch(
        "/crm/v3/properties/contacts/note_text", json={"label": "Renamed", "fieldType": "textarea"}
    )
    assert resp.status_code == 200 and resp.json()["label"] == "Renamed"
    bad = hs.patch("/crm/v3/properties/contacts/note_text", json={"fieldType": "number"})
    assert bad.status_code == 400
    assert hs.patch("/crm/v3/properties/contacts/ghost", json={"label": "x"}).status_code == 404


def test_groups(hs: Api) -> None:
    created = hs.post(
        "/crm/v3/properties/contacts/groups", json={"name": "lmsbridge", "label": "LMS"}
    )
    # the dataset's lms_user_id already declared group lmsbridge
    assert created.status_code == 409
    fresh = hs.post("/crm/v3/properties/deals/groups", json={"name": "lmsbridge", "label": "LMS"})
    assert fresh.status_code == 201
    assert hs.get("/crm/v3/properties/deals/groups/lmsbridge").json()["label"] == "LMS"
    names = {g["name"] for g in hs.get("/crm/v3/properties/deals/groups").json()["results"]}
    # HubSpot's standard deal groups, plus the one just created.
    assert names == {
        "dealinformation",
        "deal_activity",
        "deal_revenue",
        "dealstages",
        "analyticsinformation",
        "lmsbridge",
    }
    assert hs.get("/crm/v3/properties/deals/groups/nope").status_code == 404
    assert (
        hs.post(
            "/crm/v3/properties/deals", json=dict(prop("lms_x"), groupName="lmsbridge")
        ).status_code
        == 201
    )


def test_new_property_is_writable_and_searchable(hs: Api) -> None:
    hs.post("/crm/v3/properties/contacts", json=prop("lms_points", "number", "number"))
    hs.patch("/crm/v3/objects/contacts/1001", json={"properties": {"lms_points": "12"}})
    hs.patch("/crm/v3/objects/contacts/1002", json={"properties": {"lms_points": "9"}})
    resp = hs.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "lms_points", "operator": "GT", "value": "10"}]}
            ]
        },
    )
    assert [r["id"] for r in resp.json()["results"]] == ["1001"]  # numeric, not string, compare
