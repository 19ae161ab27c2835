"""Pipelines, association label definitions, and the empty-but-valid ticket/product/quote types."""

from __future__ import annotations

import pytest

from tests.sandbox.hubspot_support import Api


def test_deal_pipelines_agree_with_dealstage_options(hs: Api) -> None:
    resp = hs.get("/crm/v3/pipelines/deals")
    assert resp.status_code == 200, resp.text
    (pipeline,) = resp.json()["results"]
    assert pipeline["id"] == "default"
    stage_ids = [s["id"] for s in pipeline["stages"]]
    options = hs.get("/crm/v3/properties/deals/dealstage").json()["options"]
    assert stage_ids == [o["value"] for o in options]
    won = next(s for s in pipeline["stages"] if s["id"] == "closedwon")
    assert won["metadata"] == {"isClosed": "true", "probability": "1.0"}
    assert hs.get("/crm/v3/pipelines/deals/default").json() == pipeline
    stages = hs.get("/crm/v3/pipelines/deals/default/stages").json()["results"]
    assert stages == pipeline["stages"]
    assert hs.get("/crm/v3/pipelines/deals/default/stages/closedwon").json() == won


def test_ticket_pipeline_and_unknown_ids(hs: Api) -> None:
    (pipeline,) = hs.get("/crm/v3/pipelines/tickets").json()["results"]
    assert pipeline["id"] == "0"
    assert pipeline["stages"][-1]["metadata"] == {"ticketState": "CLOSED"}
    for path in ("/crm/v3/pipelines/deals/nope", "/crm/v3/pipelines/deals/default/stages/nope"):
        missing = hs.get(path)
        assert missing.status_code == 404
        assert missing.json()["category"] == "OBJECT_NOT_FOUND"
    assert hs.get("/crm/v3/pipelines/contacts").status_code == 400


@pytest.mark.parametrize("object_type", ["tickets", "products", "quotes", "0-5", "0-7", "0-14"])
def test_unused_types_are_empty_but_valid(hs: Api, object_type: str) -> None:
    listed = hs.get(f"/crm/v3/objects/{object_type}", params={"associations": "contacts"})
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"results": []}
    assert hs.get(f"/crm/v3/objects/{object_type}/123").status_code == 404
    search = hs.post(f"/crm/v3/objects/{object_type}/search", json={})
    assert search.status_code == 200
    assert search.json()["total"] == 0
    props = hs.get(f"/crm/v3/properties/{object_type}")
    assert props.status_code == 200
    assert "hs_object_id" in {p["name"] for p in props.json()["results"]}
    read = hs.post(f"/crm/v3/objects/{object_type}/batch/read", json={"inputs": [{"id": "123"}]})
    assert read.status_code == 207
    assert read.json()["errors"][0]["context"] == {"ids": ["123"]}


def test_contacts_list_asks_for_the_types_dlt_asks_for(hs: Api) -> None:
    resp = hs.get(
        "/crm/v3/objects/contacts",
        params={"associations": "deals,products,tickets,quotes", "limit": 100},
    )
    assert resp.status_code == 200, resp.text
    with_deals = [r for r in resp.json()["results"] if "associations" in r]
    assert {k for r in with_deals for k in r["associations"]} == {"deals"}


def test_ticket_round_trip_with_pipeline_default(hs: Api) -> None:
    created = hs.create("tickets", {"subject": "Help", "hs_pipeline_stage": "1"})
    assert created.status_code == 201, created.text
    assert created.json()["properties"]["hs_pipeline"] == "0"
    bad = hs.create("tickets", {"subject": "Help", "hs_pipeline_stage": "99"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "INVALID_OPTION"


def test_association_label_definitions(hs: Api) -> None:
    resp = hs.get("/crm/v4/associations/contacts/companies/labels")
    assert resp.status_code == 200, resp.text
    assert resp.json()["results"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": "Primary"},
        {"category": "HUBSPOT_DEFINED", "typeId": 279, "label": None},
    ]
    tasks = hs.get("/crm/v4/associations/0-27/contact/labels").json()["results"]
    assert tasks == [{"category": "HUBSPOT_DEFINED", "typeId": 204, "label": None}]
    assert hs.get("/crm/v4/associations/products/contacts/labels").json() == {"results": []}
    assert hs.get("/crm/v4/associations/nope/contacts/labels").status_code == 400
