"""The emulator's responses validate against HubSpot's official OpenAPI response schemas.

The schemas come from HubSpot's published OpenAPI specs: `conformance/hubspot-openapi/` keeps
the responses of the operations checked here and the components they reference, extracted by
`conformance/extract_schemas.py`. The schema for each check is taken from the spec's own
`paths` entry for that route, method and status, so a renamed or re-shaped response in either
the emulator or a refreshed spec fails here.

Known, deliberate deviations from the spec (real HubSpot responses differ from the spec in
these places; the emulator follows the real API, see reference/hubspot-api.md):
- property values may be JSON null when a property was requested but never set (the spec
  types the map's values as string);
- v4 association `toObjectId` is a JSON number (the spec says string);
- v4 association type `label` is null for unlabeled types, in association results and in
  the labels list (both specs say string);
- StandardError `subCategory` is a string such as "crm.associations.NO_ASSOCIATIONS_FOUND"
  (the spec types it as an object).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator, FormatChecker

from sandbox.hubspot.config import SANDBOX_APP_ID, SANDBOX_DEVELOPER_KEY
from tests.sandbox.hubspot_support import Api

SPEC_DIR = Path(__file__).resolve().parent / "conformance" / "hubspot-openapi"


@cache
def load_spec(name: str) -> dict[str, Any]:
    return relax_known_deviations(json.loads((SPEC_DIR / f"{name}.json").read_text()))


def _allow(schema: dict[str, Any] | None, *types: str) -> None:
    if schema is not None:
        base = schema.get("type")
        schema["type"] = [base, *types] if base else list(types)


def relax_known_deviations(spec: dict[str, Any]) -> dict[str, Any]:
    """Apply the deviations listed in the module docstring, and only those."""
    spec = copy.deepcopy(spec)
    schemas = spec.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.startswith("SimplePublic") and "properties" in schema.get("properties", {}):
            _allow(schema["properties"]["properties"].get("additionalProperties"), "null")
    if "MultiAssociatedObjectWithLabel" in schemas:
        _allow(schemas["MultiAssociatedObjectWithLabel"]["properties"]["toObjectId"], "integer")
    if "AssociationSpecWithLabel" in schemas:
        _allow(schemas["AssociationSpecWithLabel"]["properties"]["label"], "null")
    if "StandardError" in schemas:
        _allow(schemas["StandardError"]["properties"]["subCategory"], "string")
    return spec


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        target: Any = spec
        for part in parts:
            target = target[part]
        node = target
    return node


def response_schema(spec_name: str, path: str, method: str, status: int) -> dict[str, Any]:
    spec = load_spec(spec_name)
    operation = spec["paths"].get(path, {}).get(method.lower())
    if operation is None:
        pytest.fail(
            f"{method} {path} is not in conformance/hubspot-openapi/{spec_name}.json: add it to "
            "OPERATIONS in conformance/extract_schemas.py and rerun that script",
            pytrace=False,
        )
    responses = operation["responses"]
    response = _deref(spec, responses.get(str(status)) or responses["default"])
    content = response["content"]
    media = content.get("application/json") or next(iter(content.values()))
    return {"components": spec["components"], **media["schema"]}


def conforms(
    resp: httpx.Response, spec_name: str, path: str, method: str = "GET", *, status: int
) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    validator = Draft7Validator(
        response_schema(spec_name, path, method, status), format_checker=FormatChecker()
    )
    problems = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, problems
    return body


OBJECT_PATH = "/crm/v3/objects/contacts"


def test_list_with_associations(hs: Api) -> None:
    resp = hs.get(
        OBJECT_PATH, params={"associations": "companies", "properties": "email,lms_user_id"}
    )
    body = conforms(resp, "contacts", OBJECT_PATH, status=200)
    assert body["paging"]["next"]["after"]
    last = hs.get(OBJECT_PATH, params={"after": "1025"})
    conforms(last, "contacts", OBJECT_PATH, status=200)


def test_generic_objects_list_and_get(hs: Api) -> None:
    conforms(hs.get("/crm/v3/objects/deals"), "objects", "/crm/v3/objects/{objectType}", status=200)
    conforms(
        hs.get("/crm/v3/objects/deals/5001", params={"associations": "contacts"}),
        "objects",
        "/crm/v3/objects/{objectType}/{objectId}",
        status=200,
    )
    # The deals spec spells its paths with the objectTypeId.
    conforms(
        hs.get("/crm/v3/objects/0-3/5001"), "deals", "/crm/v3/objects/0-3/{dealId}", status=200
    )
    conforms(
        hs.get("/crm/v3/objects/companies"), "companies", "/crm/v3/objects/companies", status=200
    )


def test_get_create_update(hs: Api) -> None:
    item = OBJECT_PATH + "/{contactId}"
    conforms(
        hs.get(OBJECT_PATH + "/1001", params={"properties": "firstname,never_set"}),
        "contacts",
        item,
        status=200,
    )
    conforms(
        hs.create("contacts", {"email": "conf@x.com"}), "contacts", OBJECT_PATH, "POST", status=201
    )
    conforms(
        hs.patch(OBJECT_PATH + "/1001", json={"properties": {"firstname": "C"}}),
        "contacts",
        item,
        "PATCH",
        status=200,
    )
    conforms(
        hs.post(
            OBJECT_PATH + "/merge", json={"primaryObjectId": "1001", "objectIdToMerge": "1003"}
        ),
        "contacts",
        OBJECT_PATH + "/merge",
        "POST",
        status=200,
    )
    for name in ("tasks", "notes"):
        conforms(hs.get(f"/crm/v3/objects/{name}"), name, f"/crm/v3/objects/{name}", status=200)


def test_search(hs: Api) -> None:
    resp = hs.post(
        OBJECT_PATH + "/search", json={"limit": 5, "properties": ["email", "lifecyclestage"]}
    )
    body = conforms(resp, "contacts", OBJECT_PATH + "/search", "POST", status=200)
    assert body["paging"]["next"] == {"after": "5"}


def test_batch_responses(hs: Api) -> None:
    batch = OBJECT_PATH + "/batch/"
    conforms(
        hs.post(batch + "read", json={"inputs": [{"id": "1001"}]}),
        "contacts",
        batch + "read",
        "POST",
        status=200,
    )
    conforms(
        hs.post(batch + "read", json={"inputs": [{"id": "1001"}, {"id": "9"}]}),
        "contacts",
        batch + "read",
        "POST",
        status=207,
    )
    conforms(
        hs.post(batch + "create", json={"inputs": [{"properties": {"email": "b1@x.com"}}]}),
        "contacts",
        batch + "create",
        "POST",
        status=201,
    )
    partial = hs.post(
        batch + "create",
        json={
            "inputs": [
                {"properties": {"email": "b2@x.com"}, "objectWriteTraceId": "a"},
                {"properties": {"email": "b3@x.com", "nope": "1"}, "objectWriteTraceId": "b"},
            ]
        },
    )
    conforms(partial, "contacts", batch + "create", "POST", status=207)
    conforms(
        hs.post(
            batch + "update", json={"inputs": [{"id": "1002", "properties": {"firstname": "U"}}]}
        ),
        "contacts",
        batch + "update",
        "POST",
        status=200,
    )
    conforms(
        hs.post(batch + "update", json={"inputs": [{"id": "1", "properties": {"firstname": "U"}}]}),
        "contacts",
        batch + "update",
        "POST",
        status=207,
    )
    conforms(
        hs.post(
            batch + "upsert",
            json={"inputs": [{"id": "u@x.com", "idProperty": "email", "properties": {}}]},
        ),
        "contacts",
        batch + "upsert",
        "POST",
        status=200,
    )


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", OBJECT_PATH + "/424242", {}, 404),
        ("PATCH", OBJECT_PATH + "/1001", {"json": {"properties": {"nope": "x"}}}, 400),
        ("POST", OBJECT_PATH, {"json": {"properties": {"email": "person1@example.com"}}}, 409),
        (
            "POST",
            OBJECT_PATH + "/batch/read",
            {"json": {"inputs": [{"id": str(i)} for i in range(101)]}},
            400,
        ),
        ("POST", OBJECT_PATH + "/search", {"json": {"limit": "lots"}}, 400),
    ],
)
def test_error_bodies(hs: Api, method: str, path: str, kwargs: dict[str, Any], status: int) -> None:
    resp = hs.request(method, path, **kwargs)
    spec_path = OBJECT_PATH + "/{contactId}" if path.endswith(("/424242", "/1001")) else path
    conforms(resp, "contacts", spec_path, method, status=status)


def test_auth_error_bodies(hs_url: str) -> None:
    with Api(hs_url, token=None) as api:
        conforms(api.get(OBJECT_PATH), "contacts", OBJECT_PATH, status=401)


def test_properties(hs: Api) -> None:
    base = "/crm/v3/properties/{objectType}"
    conforms(hs.get("/crm/v3/properties/contacts"), "properties", base, status=200)
    conforms(
        hs.get("/crm/v3/properties/deals/dealstage"),
        "properties",
        base + "/{propertyName}",
        status=200,
    )
    new = {
        "name": "conf_prop",
        "label": "C",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "contactinformation",
        "options": [{"label": "A", "value": "a"}],
    }
    conforms(
        hs.post("/crm/v3/properties/contacts", json=new), "properties", base, "POST", status=201
    )
    conforms(
        hs.post("/crm/v3/properties/contacts", json=new), "properties", base, "POST", status=409
    )
    conforms(
        hs.get("/crm/v3/properties/contacts/groups"), "properties", base + "/groups", status=200
    )
    conforms(
        hs.post("/crm/v3/properties/contacts/batch/read", json={"inputs": [{"name": "email"}]}),
        "properties",
        base + "/batch/read",
        "POST",
        status=200,
    )
    conforms(
        hs.post("/crm/v3/properties/contacts/groups", json={"name": "g_conf", "label": "G"}),
        "properties",
        base + "/groups",
        "POST",
        status=201,
    )


def test_associations(hs: Api) -> None:
    path = "/crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read"
    ok = hs.post(
        "/crm/v4/associations/contacts/companies/batch/read", json={"inputs": [{"id": "1000"}]}
    )
    conforms(ok, "associations-v4", path, "POST", status=200)
    partial = hs.post(
        "/crm/v4/associations/contacts/companies/batch/read",
        json={"inputs": [{"id": "1000"}, {"id": "1001"}]},
    )
    conforms(partial, "associations-v4", path, "POST", status=207)
    conforms(
        hs.get("/crm/v4/objects/contacts/1000/associations/companies"),
        "associations-v4",
        "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}",
        status=200,
    )


def test_owners(hs: Api) -> None:
    conforms(hs.get("/crm/v3/owners", params={"limit": 2}), "owners", "/crm/v3/owners", status=200)
    conforms(hs.get("/crm/v3/owners/500"), "owners", "/crm/v3/owners/{ownerId}", status=200)


def test_pipelines(hs: Api) -> None:
    base = "/crm/v3/pipelines/{objectType}"
    for object_type in ("deals", "tickets"):
        body = conforms(hs.get(f"/crm/v3/pipelines/{object_type}"), "pipelines", base, status=200)
        assert body["results"]
    conforms(
        hs.get("/crm/v3/pipelines/deals/default"), "pipelines", base + "/{pipelineId}", status=200
    )
    conforms(
        hs.get("/crm/v3/pipelines/deals/default/stages"),
        "pipelines",
        base + "/{pipelineId}/stages",
        status=200,
    )


def test_association_labels(hs: Api) -> None:
    path = "/crm/v4/associations/{fromObjectType}/{toObjectType}/labels"
    for from_type, to_type in (("contacts", "companies"), ("deals", "contacts")):
        body = conforms(
            hs.get(f"/crm/v4/associations/{from_type}/{to_type}/labels"),
            "associations-schema-v4",
            path,
            status=200,
        )
        assert body["results"]


def test_timeline_templates_and_events(hs: Api, hs_url: str) -> None:
    timeline = "/integrators/timeline/v3"
    templates = timeline + "/{appId}/event-templates"
    base = f"{timeline}/{SANDBOX_APP_ID}/event-templates"
    key = {"hapikey": SANDBOX_DEVELOPER_KEY}
    template = {
        "name": "Course completed",
        "objectType": "contacts",
        "tokens": [
            {"name": "course", "label": "Course", "type": "string"},
            {
                "name": "level",
                "label": "Level",
                "type": "enumeration",
                "options": [{"label": "Pro", "value": "pro"}],
            },
        ],
    }
    created = conforms(
        hs.post(base, params=key, json=template), "timeline", templates, "POST", status=201
    )
    tid = created["id"]
    one = templates + "/{eventTemplateId}"
    conforms(hs.get(base, params=key), "timeline", templates, status=200)
    conforms(hs.get(f"{base}/{tid}", params=key), "timeline", one, status=200)
    conforms(
        hs.put(f"{base}/{tid}", params=key, json={**template, "id": tid, "name": "Done"}),
        "timeline",
        one,
        "PUT",
        status=200,
    )
    token = {"name": "minutes", "label": "Minutes", "type": "number"}
    conforms(
        hs.post(f"{base}/{tid}/tokens", params=key, json=token),
        "timeline",
        one + "/tokens",
        "POST",
        status=200,
    )
    conforms(
        hs.put(f"{base}/{tid}/tokens/minutes", params=key, json={"label": "M", "options": []}),
        "timeline",
        one + "/tokens/{tokenName}",
        "PUT",
        status=200,
    )
    with Api(hs_url, token="oauth-conformance-token") as app:
        event = {"eventTemplateId": tid, "tokens": {"course": "intro", "minutes": 5}}
        events = timeline + "/events"
        sent = conforms(
            app.post(events, json={**event, "objectId": "1001", "id": "e1"}),
            "timeline",
            events,
            "POST",
            status=201,
        )
        conforms(
            app.get(f"{events}/{tid}/e1"),
            "timeline",
            events + "/{eventTemplateId}/{eventId}",
            status=200,
        )
        assert sent["tokens"] == {"course": "intro", "minutes": "5"}
        batch = events + "/batch/create"
        conforms(
            app.post(batch, json={"inputs": [{**event, "email": "tl@example.com", "id": "e2"}]}),
            "timeline",
            batch,
            "POST",
            status=201,
        )
        conforms(
            app.post(batch, json={"inputs": [{**event, "objectId": "1002", "id": "e1"}]}),
            "timeline",
            batch,
            "POST",
            status=207,
        )
        # Errors use the spec's Error schema (the `default` response).
        conforms(
            app.post(events, json={**event, "objectId": "1002", "id": "e1"}),
            "timeline",
            events,
            "POST",
            status=400,
        )
    conforms(hs.post(events, json=event), "timeline", events, "POST", status=403)
