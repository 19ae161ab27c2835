"""Bad input gets HubSpot-shaped errors with the right status; never a 500 or a traceback."""

from __future__ import annotations

import pytest

from tests.sandbox.hubspot_support import Api

POST_ROUTES = [
    "/crm/v3/objects/contacts",
    "/crm/v3/objects/contacts/search",
    "/crm/v3/objects/contacts/batch/read",
    "/crm/v3/objects/contacts/batch/create",
    "/crm/v3/objects/contacts/batch/update",
    "/crm/v3/objects/contacts/batch/upsert",
    "/crm/v3/objects/contacts/batch/archive",
    "/crm/v3/objects/contacts/merge",
    "/crm/v3/properties/contacts",
    "/crm/v3/properties/contacts/batch/create",
    "/crm/v3/properties/contacts/batch/read",
    "/crm/v3/properties/contacts/groups",
    "/crm/v4/associations/contacts/companies/batch/read",
    "/crm/v4/associations/contacts/companies/batch/create",
    "/crm/v4/associations/contacts/companies/batch/archive",
]
GARBAGE = [
    b"{not json",
    b"[1, 2, 3]",
    b'"just a string"',
    b'{"inputs": "nope", "properties": 5, "filterGroups": {"a": 1}}',
    b'{"inputs": [{"id": {"x": 1}, "properties": [1], "from": 3}]}',
    b'{"properties": {"email": {"nested": true}}, "limit": "many"}',
    b"",
]


def assert_hubspot_error(resp, status: int) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["status"] == "error"
    assert body["category"] and body["message"] and body["correlationId"]
    assert "Traceback" not in resp.text


@pytest.mark.parametrize("path", POST_ROUTES)
def test_garbage_bodies_never_500(hs: Api, path: str) -> None:
    for raw in GARBAGE:
        resp = hs.post(path, content=raw, headers={"Content-Type": "application/json"})
        assert resp.status_code < 500, (path, raw, resp.text)
        if resp.status_code >= 400:
            assert_hubspot_error(resp, resp.status_code)


def test_malformed_json_is_400_validation_error(hs: Api) -> None:
    resp = hs.post(
        "/crm/v3/objects/contacts", content=b"{bad", headers={"Content-Type": "application/json"}
    )
    assert_hubspot_error(resp, 400)
    assert resp.json()["category"] == "VALIDATION_ERROR"


def test_wrong_types_are_400_not_422(hs: Api) -> None:
    resp = hs.post(
        "/crm/v3/objects/contacts/batch/update", json={"inputs": [{"id": "1", "properties": "x"}]}
    )
    assert_hubspot_error(resp, 400)
    assert resp.json()["category"] == "VALIDATION_ERROR"
    assert "properties" in resp.json()["message"]
    assert_hubspot_error(hs.get("/crm/v3/objects/contacts", params={"limit": "ten"}), 400)


def test_unknown_route_and_wrong_method(hs: Api) -> None:
    assert_hubspot_error(hs.get("/crm/v3/nothing/here"), 404)
    assert_hubspot_error(hs.put("/crm/v3/objects/contacts/batch/update", json={}), 405)
    assert_hubspot_error(hs.delete("/crm/v3/objects/contacts"), 405)


def test_unknown_object_type_is_400(hs: Api) -> None:
    resp = hs.get("/crm/v3/objects/widgets")
    assert_hubspot_error(resp, 400)
    assert resp.json()["message"] == "Unable to infer object type from: widgets"


def test_merge_of_missing_contact_is_404(hs: Api) -> None:
    resp = hs.post(
        "/crm/v3/objects/contacts/merge",
        json={"primaryObjectId": "1001", "objectIdToMerge": "424242"},
    )
    assert_hubspot_error(resp, 404)


def test_load_of_missing_dataset_is_a_clear_error(hs: Api) -> None:
    resp = hs.post("/_sandbox/load", json={"path": "/definitely/not/here"})
    assert_hubspot_error(resp, 400)
    assert "does not exist" in resp.json()["message"]
