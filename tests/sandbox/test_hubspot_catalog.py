"""HubSpot's standard property catalog, pipelines and the rules that come with them."""

from __future__ import annotations

import pytest

from tests.sandbox.hubspot_support import Api


def _names(hs: Api, object_type: str) -> dict[str, dict]:
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
    for prop in props.values():
        assert prop["groupName"] in {
            g["name"] for g in hs.get(f"/crm/v3/properties/{object_type}/groups").json()["results"]
        }


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
