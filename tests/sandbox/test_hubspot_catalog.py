"""HubSpot's standard property catalog, pipelines and the rules that come with them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.hubspot_support import Api


def _names(hs: Api, object_type: str) -> dict[str, dict[str, Any]]:
    resp = hs.get(f"/crm/v3/properties/{object_type}")
    assert resp.status_code == 200, resp.text
    return {p["name"]: p for p in resp.json()["results"]}


@pytest.mark.parametrize(
    ("object_type", "at_least", "expected"),
    [
        ("contacts", 80, {"hs_lead_status", "state", "zip", "address", "industry", "salutation"}),
        ("companies", 50, {"state", "zip", "address", "type", "is_public", "hs_lead_status"}),
        ("deals", 50, {"hs_closed_amount", "amount_in_home_currency", "hs_priority"}),
        ("tasks", 15, {"hs_task_completion_date", "hs_queue_membership_ids"}),
        ("notes", 8, {"hs_body_preview"}),
        ("tickets", 8, {"subject", "hs_pipeline", "hs_pipeline_stage"}),
        ("products", 5, {"name", "price", "hs_sku"}),
        ("quotes", 5, {"hs_title", "hs_expiration_date"}),
    ],
)
def test_standard_catalog(hs: Api, object_type: str, at_least: int, expected: set[str]) -> None:
    props = _names(hs, object_type)
    assert len(props) >= at_least
    assert expected <= set(props)
    groups = hs.get(f"/crm/v3/properties/{object_type}/groups").json()["results"]
    assert {p["groupName"] for p in props.values()} <= {g["name"] for g in groups}


def test_standard_definitions_have_hubspot_types(hs: Api) -> None:
    contacts = _names(hs, "contacts")
    lead_status = contacts["hs_lead_status"]
    assert (lead_status["type"], lead_status["fieldType"]) == ("enumeration", "radio")
    assert "OPEN_DEAL" in [o["value"] for o in lead_status["options"]]
    lifecycle = contacts["lifecyclestage"]
    assert [o["label"] for o in lifecycle["options"]][:3] == [
        "Subscriber",
        "Lead",
        "Marketing Qualified Lead",
    ]
    deals = _names(hs, "deals")
    assert deals["hs_v2_date_entered_closedwon"]["type"] == "datetime"
    assert deals["hs_closed_amount"]["calculated"] is True
    assert deals["dealstage"]["externalOptions"] is True
    assert [o["value"] for o in deals["pipeline"]["options"]] == ["default"]
    # The properties the emulator had before the catalog keep their types.
    assert contacts["hubspot_owner_id"]["referencedObjectType"] == "OWNER"
    assert _names(hs, "companies")["industry"]["type"] == "string"


def test_standard_properties_can_be_written(hs: Api) -> None:
    resp = hs.create(
        "contacts",
        {"email": "cat@x.com", "state": "CA", "zip": "94105", "hs_lead_status": "NEW"},
    )
    assert resp.status_code == 201, resp.text
    got = hs.get(
        f"/crm/v3/objects/contacts/{resp.json()['id']}", params={"properties": "state,zip"}
    ).json()
    assert got["properties"] == {"state": "CA", "zip": "94105"}


@pytest.mark.parametrize(
    ("object_type", "name"),
    [
        ("deals", "hs_closed_amount"),
        ("deals", "hs_v2_date_entered_closedwon"),
        ("contacts", "hs_email_open"),
    ],
)
def test_read_only_and_calculated_are_refused(hs: Api, object_type: str, name: str) -> None:
    target = {"deals": "5001", "contacts": "1001"}[object_type]
    resp = hs.patch(f"/crm/v3/objects/{object_type}/{target}", json={"properties": {name: "1"}})
    assert resp.status_code == 400
    body = resp.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["code"] == "READ_ONLY_VALUE"
    assert body["errors"][0]["context"] == {"propertyName": [name]}


def _required_error(resp: httpx.Response, singular: str, missing: list[str]) -> None:
    assert resp.status_code == 400, resp.text
    body = resp.json()
    assert body["status"] == "error"
    assert body["category"] == "VALIDATION_ERROR"
    assert body["message"] == f"Error creating {singular}.  Some required properties were not set."
    assert body["context"] == {"properties": missing}
    assert body["correlationId"]


@pytest.mark.parametrize(
    ("object_type", "props", "singular", "missing"),
    [
        ("deals", {"amount": "10"}, "DEAL", ["dealname", "dealstage"]),
        ("deals", {"dealname": "D"}, "DEAL", ["dealstage"]),
        ("tasks", {"hs_task_subject": "call"}, "TASK", ["hs_timestamp"]),
        ("notes", {"hs_note_body": "hi", "hs_timestamp": ""}, "NOTE", ["hs_timestamp"]),
        ("contacts", {}, "CONTACT", ["email", "firstname", "lastname"]),
        ("tickets", {"subject": "S"}, "TICKET", ["hs_pipeline_stage"]),
    ],
)
def test_create_without_required_properties(
    hs: Api, object_type: str, props: dict[str, str], singular: str, missing: list[str]
) -> None:
    before = hs.get(f"/crm/v3/objects/{object_type}", params={"limit": 100}).json()["results"]
    _required_error(hs.create(object_type, props), singular, missing)
    after = hs.get(f"/crm/v3/objects/{object_type}", params={"limit": 100}).json()["results"]
    assert len(after) == len(before)


def test_deal_create_defaults_the_only_pipeline(hs: Api) -> None:
    resp = hs.create("deals", {"dealname": "D", "dealstage": "qualifiedtobuy"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["properties"]["pipeline"] == "default"
    contact = hs.create("contacts", {"lastname": "Only"})
    assert contact.status_code == 201, contact.text


def test_batch_create_required_is_all_or_nothing(hs: Api) -> None:
    ok = {"properties": {"hs_timestamp": "2024-06-01T09:00:00Z", "hs_task_subject": "a"}}
    bad = {"properties": {"hs_task_subject": "b"}}
    resp = hs.post("/crm/v3/objects/tasks/batch/create", json={"inputs": [ok, bad]})
    _required_error(resp, "TASK", ["hs_timestamp"])
    assert hs.get("/crm/v3/objects/tasks").json()["results"] == []
    traced = hs.post(
        "/crm/v3/objects/tasks/batch/create",
        json={"inputs": [{**ok, "objectWriteTraceId": "t1"}, {**bad, "objectWriteTraceId": "t2"}]},
    )
    assert traced.status_code == 207, traced.text
    body = traced.json()
    assert len(body["results"]) == 1
    assert body["errors"][0]["context"] == {
        "properties": ["hs_timestamp"],
        "objectWriteTraceId": ["t2"],
    }


def test_batch_upsert_enforces_required_on_the_create_path(hs: Api) -> None:
    created = hs.post(
        "/crm/v3/properties/notes",
        json={
            "name": "lms_activity_key",
            "label": "key",
            "type": "string",
            "fieldType": "text",
            "groupName": "note",
            "hasUniqueValue": True,
        },
    )
    assert created.status_code == 201, created.text
    url = "/crm/v3/objects/notes/batch/upsert"
    missing = {"id": "k1", "idProperty": "lms_activity_key", "properties": {"hs_note_body": "x"}}
    _required_error(hs.post(url, json={"inputs": [missing]}), "NOTE", ["hs_timestamp"])
    full = {**missing, "properties": {"hs_note_body": "x", "hs_timestamp": "1717232400000"}}
    first = hs.post(url, json={"inputs": [full]})
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["new"] is True
    # The update path of an upsert needs no required property.
    again = hs.post(url, json={"inputs": [missing]})
    assert again.status_code == 200, again.text
    assert again.json()["results"][0]["new"] is False


def _deal(hs: Api, deal_id: str, *names: str) -> dict[str, Any]:
    resp = hs.get(f"/crm/v3/objects/deals/{deal_id}", params={"properties": ",".join(names)})
    assert resp.status_code == 200, resp.text
    return dict(resp.json()["properties"])


CALCULATED = (
    "hs_is_closed",
    "hs_is_closed_won",
    "hs_closed_amount",
    "amount_in_home_currency",
    "hs_deal_stage_probability",
    "hs_projected_amount",
)


def test_calculated_deal_properties_follow_the_stage(hs: Api) -> None:
    created = hs.create(
        "deals",
        {
            "dealname": "Calc",
            "dealstage": "qualifiedtobuy",
            "amount": "1500.50",
            "closedate": "2030-01-11T00:00:00Z",
        },
    )
    assert created.status_code == 201, created.text
    deal_id = created.json()["id"]
    entered = "hs_v2_date_entered_qualifiedtobuy"
    props = _deal(hs, deal_id, *CALCULATED, entered, "days_to_close")
    assert {k: props[k] for k in CALCULATED} == {
        "hs_is_closed": "false",
        "hs_is_closed_won": "false",
        "hs_closed_amount": "0",
        "amount_in_home_currency": "1500.5",
        "hs_deal_stage_probability": "0.4",
        "hs_projected_amount": "600.2",
    }
    assert props[entered] == created.json()["createdAt"]
    assert int(props["days_to_close"]) > 365

    won = hs.patch(
        f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"dealstage": "closedwon"}}
    )
    assert won.status_code == 200, won.text
    props = _deal(
        hs, deal_id, *CALCULATED, "hs_v2_date_entered_closedwon", "hs_v2_date_exited_qualifiedtobuy"
    )
    assert props["hs_is_closed"] == props["hs_is_closed_won"] == "true"
    assert props["hs_closed_amount"] == "1500.5"
    assert props["hs_v2_date_entered_closedwon"] == won.json()["updatedAt"]
    assert props["hs_v2_date_exited_qualifiedtobuy"] == won.json()["updatedAt"]


def test_calculated_deal_properties_are_searchable(hs: Api) -> None:
    # The dataset's odd deals (5001, 5003, 5005) are closed won; 5000 has no amount.
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "hs_is_closed_won", "operator": "EQ", "value": "true"}]}
        ],
        "properties": ["hs_closed_amount"],
        "sorts": [{"propertyName": "hs_closed_amount", "direction": "DESCENDING"}],
    }
    resp = hs.post("/crm/v3/objects/deals/search", json=body)
    assert resp.status_code == 200, resp.text
    found = [(r["id"], r["properties"]["hs_closed_amount"]) for r in resp.json()["results"]]
    assert found == [("5005", "5000"), ("5003", "3000"), ("5001", "1000")]
    lost = hs.patch("/crm/v3/objects/deals/5005", json={"properties": {"dealstage": "closedlost"}})
    assert lost.status_code == 200
    again = hs.post("/crm/v3/objects/deals/search", json=body).json()
    assert [r["id"] for r in again["results"]] == ["5003", "5001"]
    amount = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "amount_in_home_currency", "operator": "GTE", "value": "4000"}
                ]
            }
        ]
    }
    assert {
        r["id"] for r in hs.post("/crm/v3/objects/deals/search", json=amount).json()["results"]
    } == {
        "5004",
        "5005",
    }
