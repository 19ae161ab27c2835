"""HubSpot's official Python SDK (hubspot-api-client) against the emulator on 127.0.0.1.

The SDK deserializes every response into its generated models, which check the fields HubSpot
marks required; an emulator response missing one raises here. Errors come back as the SDK's
ApiException carrying HubSpot's status and body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm import companies, contacts, deals
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicAssociationMultiPost,
    PublicFetchAssociationsBatchRequest,
    PublicObjectId,
)
from hubspot.crm.objects import notes, tasks

from tests.sandbox.hubspot_support import TOKEN, Api


@pytest.fixture
def client(hs: Api, hs_url: str) -> HubSpot:
    # No retry policy: a 429 must surface as an ApiException, not be retried away.
    return HubSpot(access_token=TOKEN, host=hs_url)


def _api(client: HubSpot, object_type: str) -> Any:
    crm = client.crm
    return {
        "contacts": crm.contacts,
        "companies": crm.companies,
        "deals": crm.deals,
        "tasks": crm.objects.tasks,
        "notes": crm.objects.notes,
    }[object_type]


MODELS: dict[str, ModuleType] = {
    "contacts": contacts,
    "companies": companies,
    "deals": deals,
    "tasks": tasks,
    "notes": notes,
}
# A valid create per type (HubSpot's required properties included) and a property to update.
CREATE: dict[str, dict[str, str]] = {
    "contacts": {"email": "sdk@example.com", "firstname": "Sdk"},
    "companies": {"name": "Sdk Inc", "domain": "sdk.example"},
    "deals": {"dealname": "Sdk deal", "dealstage": "qualifiedtobuy", "amount": "100"},
    "tasks": {"hs_timestamp": "2024-06-01T09:00:00.000Z", "hs_task_subject": "Call"},
    "notes": {"hs_timestamp": "2024-06-01T09:00:00.000Z", "hs_note_body": "Met"},
}
# (property, value for the single update, value for the batch update)
UPDATE = {
    "contacts": ("lastname", "Updated", "Batched"),
    "companies": ("city", "Paris", "Lyon"),
    "deals": ("amount", "250", "300"),
    "tasks": ("hs_task_status", "COMPLETED", "DEFERRED"),
    "notes": ("hs_note_body", "Updated", "Batched"),
}
TYPES = list(MODELS)


@pytest.mark.parametrize("object_type", TYPES)
def test_crud_search_and_batches(client: HubSpot, object_type: str) -> None:
    api, m = _api(client, object_type), MODELS[object_type]
    created = api.basic_api.create(
        m.SimplePublicObjectInputForCreate(properties=CREATE[object_type])
    )
    record_id = created.id
    prop, value, batch_value = UPDATE[object_type]

    page = api.basic_api.get_page(limit=5, properties=[prop])
    assert page.results
    got = api.basic_api.get_by_id(record_id, properties=list(CREATE[object_type]))
    assert got.properties == {**got.properties, **CREATE[object_type]}

    updated = api.basic_api.update(record_id, m.SimplePublicObjectInput(properties={prop: value}))
    assert updated.properties[prop] == value

    found = api.search_api.do_search(
        m.PublicObjectSearchRequest(
            filter_groups=[
                m.FilterGroup(
                    filters=[m.Filter(property_name="hs_object_id", operator="EQ", value=record_id)]
                )
            ],
            properties=[prop],
            limit=10,
        )
    )
    assert [(r.id, r.properties[prop]) for r in found.results] == [(record_id, value)]
    assert found.total == 1

    read = api.batch_api.read(
        m.BatchReadInputSimplePublicObjectId(
            properties=[prop],
            inputs=[m.SimplePublicObjectId(id=record_id)],
            properties_with_history=[],
        )
    )
    assert [r.id for r in read.results] == [record_id]

    batch = api.batch_api.update(
        m.BatchInputSimplePublicObjectBatchInput(
            inputs=[m.SimplePublicObjectBatchInput(id=record_id, properties={prop: batch_value})]
        )
    )
    assert batch.results[0].properties[prop] == batch_value

    made = api.batch_api.create(
        m.BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=[m.SimplePublicObjectBatchInputForCreate(properties=_other(object_type))]
        )
    )
    assert made.status == "COMPLETE" and len(made.results) == 1
    api.basic_api.archive(record_id)
    status, body, _ = _raises(lambda: api.basic_api.get_by_id(record_id), m.ApiException)
    assert status == 404 and body["category"] == "OBJECT_NOT_FOUND"


def _other(object_type: str) -> dict[str, str]:
    props = dict(CREATE[object_type])
    if object_type == "contacts":
        props["email"] = "other@example.com"
    if object_type == "companies":
        props["domain"] = "other.example"
    return props


def test_contact_upsert_by_email(client: HubSpot) -> None:
    batch = client.crm.contacts.batch_api.upsert(
        contacts.BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                contacts.SimplePublicObjectBatchInputUpsert(
                    id="person1@example.com", id_property="email", properties={"state": "CA"}
                ),
                contacts.SimplePublicObjectBatchInputUpsert(
                    id="new@example.com", id_property="email", properties={"firstname": "New"}
                ),
            ]
        )
    )
    assert sorted((r.id, r.new) for r in batch.results)[0] == ("1001", False)
    assert sum(1 for r in batch.results if r.new) == 1


def test_properties_owners_pipelines_associations(client: HubSpot) -> None:
    crm = client.crm
    names = {p.name for p in crm.properties.core_api.get_all("contacts").results}
    assert {"hs_lead_status", "lifecyclestage", "lms_user_id"} <= names
    dealstage = crm.properties.core_api.get_by_name("deals", "dealstage")
    assert dealstage.external_options is True
    groups = crm.properties.groups_api.get_all("deals").results
    assert "dealinformation" in {g.name for g in groups}

    owners = crm.owners.owners_api.get_page(limit=2)
    assert [o.id for o in owners.results] == ["500", "501"]
    assert crm.owners.owners_api.get_by_id(502).email == "owner2@corp.example"

    (pipeline,) = crm.pipelines.pipelines_api.get_all("deals").results
    assert pipeline.id == "default"
    stages = crm.pipelines.pipeline_stages_api.get_all("deals", "default").results
    assert stages[-2].metadata == {"isClosed": "true", "probability": "1.0"}
    assert crm.pipelines.pipelines_api.get_by_id("tickets", "0").label == "Support Pipeline"

    assoc = crm.associations.v4
    edges = assoc.basic_api.get_page("contacts", "1000", "companies")
    assert [e.to_object_id for e in edges.results] == ["100"]
    batch = assoc.batch_api.get_page(
        "deals",
        "contacts",
        BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[PublicFetchAssociationsBatchRequest(id="5001")]
        ),
    )
    assert [t.to_object_id for r in batch.results for t in r.to] == ["1001"]
    labels = assoc.schema.definitions_api.get_all("contacts", "companies").results
    assert {(lbl.type_id, lbl.label) for lbl in labels} == {(1, "Primary"), (279, None)}

    with_assoc = crm.contacts.basic_api.get_by_id("1000", associations=["companies"])
    assert {a.id for a in with_assoc.associations["companies"].results} == {"100"}


def _raises(
    call: Callable[[], Any], exc_type: type[Exception] = contacts.ApiException
) -> tuple[int, dict[str, Any], Any]:
    """Status, parsed body and headers of the SDK's ApiException (each API has its own class)."""
    with pytest.raises(exc_type) as caught:
        call()
    exc = caught.value
    return exc.status, json.loads(exc.body), exc.headers


def test_required_and_unknown_properties(client: HubSpot) -> None:
    status, body, _ = _raises(
        lambda: client.crm.deals.basic_api.create(
            deals.SimplePublicObjectInputForCreate(properties={"dealname": "No stage"})
        ),
        deals.ApiException,
    )
    assert status == 400 and body["category"] == "VALIDATION_ERROR"
    assert body["context"] == {"properties": ["dealstage"]}
    status, body, _ = _raises(
        lambda: client.crm.objects.tasks.basic_api.create(
            tasks.SimplePublicObjectInputForCreate(properties={"hs_task_subject": "x"})
        ),
        tasks.ApiException,
    )
    assert status == 400 and body["context"] == {"properties": ["hs_timestamp"]}
    status, body, _ = _raises(
        lambda: client.crm.contacts.basic_api.update(
            "1001", contacts.SimplePublicObjectInput(properties={"no_such_prop": "1"})
        )
    )
    assert status == 400
    assert body["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    assert body["message"].startswith("Property values were not valid: ")


def test_duplicate_email_conflict(client: HubSpot) -> None:
    status, body, _ = _raises(
        lambda: client.crm.contacts.basic_api.create(
            contacts.SimplePublicObjectInputForCreate(properties={"email": "PERSON1@example.com"})
        )
    )
    assert status == 409
    assert body["category"] == "CONFLICT"
    assert body["message"] == "Contact already exists. Existing ID: 1001"


def test_bad_token_and_missing_scope(hs: Api, hs_url: str) -> None:
    bad = HubSpot(access_token="pat-na1-wrong", host=hs_url)
    good = HubSpot(access_token=TOKEN, host=hs_url)
    hs.control("auth", {"tokens": [TOKEN], "scopes": ["crm.objects.contacts.read"]})
    try:
        status, body, _ = _raises(lambda: bad.crm.contacts.basic_api.get_page())
        assert status == 401 and body["category"] == "INVALID_AUTHENTICATION"
        status, body, _ = _raises(lambda: good.crm.deals.basic_api.get_page(), deals.ApiException)
    finally:
        # The session's emulator is shared: a reset keeps auth settings, so restore them.
        hs.control("auth", {"tokens": None, "scopes": None})
    assert status == 403 and body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.read"]


def test_rate_limit(client: HubSpot, hs: Api) -> None:
    hs.control("chaos", {"rate_max": 1, "rate_interval_ms": 60_000})
    client.crm.contacts.basic_api.get_page(limit=1)
    status, body, headers = _raises(lambda: client.crm.contacts.basic_api.get_page(limit=1))
    assert status == 429
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert headers["X-HubSpot-RateLimit-Max"] == "1"
    assert headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "60000"


def test_history_through_the_sdk(client: HubSpot) -> None:
    api = client.crm.contacts
    api.basic_api.update("1001", contacts.SimplePublicObjectInput(properties={"firstname": "New"}))
    got = api.basic_api.get_by_id("1001", properties_with_history=["firstname"])
    versions = got.properties_with_history["firstname"]
    assert [(v.value, v.source_type) for v in versions] == [("New", "API"), ("First1", "IMPORT")]
    page = api.basic_api.get_page(limit=50, properties_with_history=["firstname"])
    assert page.results[0].properties_with_history["firstname"][0].value == "First0"


@pytest.mark.parametrize("name", ["tickets", "products", "quotes"])
def test_unused_types_through_their_sdk_apis(client: HubSpot, name: str) -> None:
    api = getattr(client.crm, name)
    assert api.basic_api.get_page(limit=10, associations=["contacts"]).results == []
    found = api.search_api.do_search(contacts.PublicObjectSearchRequest(limit=10))
    assert found.total == 0
    names = {p.name for p in client.crm.properties.core_api.get_all(name).results}
    assert "hs_object_id" in names


def test_association_writes_through_the_sdk(client: HubSpot) -> None:
    assoc = client.crm.associations.v4
    made = assoc.basic_api.create(
        "contacts",
        "1001",
        "companies",
        "101",
        [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=279)],
    )
    assert (made.from_object_id, made.to_object_id) == ("1001", "101")
    batch = assoc.batch_api.create(
        "deals",
        "contacts",
        BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from=PublicObjectId(id="5000"),
                    to=PublicObjectId(id="1003"),
                    types=[
                        AssociationSpec(
                            association_category="HUBSPOT_DEFINED", association_type_id=3
                        )
                    ],
                )
            ]
        ),
    )
    assert batch.status == "COMPLETE"
    edges = assoc.basic_api.get_page("deals", "5000", "contacts").results
    assert sorted(e.to_object_id for e in edges) == ["1000", "1003"]
