"""Timeline v3 in the emulator: templates under the developer hapikey, events under an OAuth
bearer token, HubSpot's validation errors, and the duplicate event id refusal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.hubspot.config import SANDBOX_APP_ID, SANDBOX_DEVELOPER_KEY
from sandbox.hubspot.routes import timeline as timeline_routes
from tests.sandbox.hubspot_support import Api

OAUTH_TOKEN = "oauth-na1-test-access-token"
TEMPLATES = f"/integrators/timeline/v3/{SANDBOX_APP_ID}/event-templates"
EVENTS = "/integrators/timeline/v3/events"
KEY = {"hapikey": SANDBOX_DEVELOPER_KEY}

TEMPLATE = {
    "name": "Course completed",
    "objectType": "contacts",
    "headerTemplate": "Completed {{course}}",
    "tokens": [
        {"name": "course", "label": "Course", "type": "string"},
        {"name": "score", "label": "Score", "type": "number"},
        {"name": "completed_on", "label": "Completed on", "type": "date"},
        {
            "name": "level",
            "label": "Level",
            "type": "enumeration",
            "options": [{"label": "Basic", "value": "basic"}, {"label": "Pro", "value": "pro"}],
        },
    ],
}


@pytest.fixture
def app(hs: Api, hs_url: str) -> Iterator[Api]:
    """The same fresh emulator, called with an OAuth app's token."""
    with Api(hs_url, token=OAUTH_TOKEN) as api:
        yield api


def make_template(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = api.post(TEMPLATES, params=KEY, json=body or TEMPLATE)
    assert resp.status_code == 201, resp.text
    return resp.json()


def event(template_id: str, **fields: Any) -> dict[str, Any]:
    return {"eventTemplateId": template_id, "tokens": {"course": "intro"}, **fields}


def test_templates_need_the_developer_key_not_a_bearer_token(app: Api) -> None:
    assert app.get(TEMPLATES).status_code == 401
    wrong = app.get(TEMPLATES, params={"hapikey": "not-the-key"})
    assert wrong.status_code == 401
    assert wrong.json()["category"] == "INVALID_AUTHENTICATION"
    assert "not-the-key" not in wrong.text
    other_app = app.get("/integrators/timeline/v3/1/event-templates", params=KEY)
    assert other_app.status_code == 401
    assert app.get(TEMPLATES, params=KEY).json() == {"results": []}


def test_template_lifecycle(app: Api) -> None:
    created = make_template(app)
    tid = created["id"]
    assert created["name"] == "Course completed" and created["objectType"] == "contacts"
    assert [t["name"] for t in created["tokens"]] == ["course", "score", "completed_on", "level"]
    assert created["tokens"][0]["options"] == []
    assert app.get(f"{TEMPLATES}/{tid}", params=KEY).json() == created
    assert [t["id"] for t in app.get(TEMPLATES, params=KEY).json()["results"]] == [tid]

    update = {**TEMPLATE, "id": tid, "name": "Course finished", "tokens": TEMPLATE["tokens"][:2]}
    updated = app.put(f"{TEMPLATES}/{tid}", params=KEY, json=update).json()
    assert updated["name"] == "Course finished" and len(updated["tokens"]) == 2
    retype = {**update, "tokens": [{"name": "score", "label": "Score", "type": "string"}]}
    assert app.put(f"{TEMPLATES}/{tid}", params=KEY, json=retype).status_code == 400

    token = {"name": "minutes", "label": "Minutes", "type": "number"}
    added = app.post(f"{TEMPLATES}/{tid}/tokens", params=KEY, json=token)
    assert added.status_code == 200 and added.json()["name"] == "minutes"
    assert app.post(f"{TEMPLATES}/{tid}/tokens", params=KEY, json=token).status_code == 400
    relabel = app.put(
        f"{TEMPLATES}/{tid}/tokens/minutes", params=KEY, json={"label": "Time", "options": []}
    )
    assert relabel.json()["label"] == "Time" and relabel.json()["type"] == "number"
    assert app.delete(f"{TEMPLATES}/{tid}/tokens/minutes", params=KEY).status_code == 204
    assert app.delete(f"{TEMPLATES}/{tid}/tokens/minutes", params=KEY).status_code == 404

    assert app.delete(f"{TEMPLATES}/{tid}", params=KEY).status_code == 204
    assert app.get(f"{TEMPLATES}/{tid}", params=KEY).status_code == 404


@pytest.mark.parametrize(
    ("token", "needle"),
    [
        ({"name": "x", "label": "X", "type": "boolean"}, "invalid type"),
        ({"name": "x", "label": "X", "type": "enumeration"}, "needs options"),
        ({"name": "bad name!", "label": "X", "type": "string"}, "alphanumeric"),
        ({"name": "x", "type": "string"}, "label"),
    ],
)
def test_invalid_template_tokens_are_400(app: Api, token: dict[str, Any], needle: str) -> None:
    resp = app.post(TEMPLATES, params=KEY, json={**TEMPLATE, "tokens": [token]})
    assert resp.status_code == 400
    assert resp.json()["category"] == "VALIDATION_ERROR" and needle in resp.json()["message"]


def test_an_app_holds_at_most_750_templates(app: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit is HubSpot's (750); two keep the test short, the check is the same.
    monkeypatch.setattr(timeline_routes, "MAX_TEMPLATES_PER_APP", 2)
    make_template(app)
    make_template(app)
    resp = app.post(TEMPLATES, params=KEY, json=TEMPLATE)
    assert resp.status_code == 400 and "maximum of 2 event templates" in resp.json()["message"]


def test_event_on_a_contact_by_id_echoes_tokens_as_strings(app: Api) -> None:
    tid = make_template(app)["id"]
    body = event(
        tid,
        objectId="1001",
        id="evt-1",
        timestamp="2026-01-05T09:30:00Z",
        tokens={"course": "intro", "score": 87, "completed_on": "2026-01-05", "level": "pro"},
        extraData={"lessons": 12},
    )
    resp = app.post(EVENTS, json=body)
    assert resp.status_code == 201, resp.text
    got = resp.json()
    assert got["objectType"] == "contacts" and got["objectId"] == "1001" and got["id"] == "evt-1"
    assert got["tokens"] == {
        "course": "intro",
        "score": "87",
        "completed_on": "2026-01-05",
        "level": "pro",
    }
    assert got["timestamp"] == "2026-01-05T09:30:00.000Z" and got["extraData"] == {"lessons": 12}
    assert app.get(f"{EVENTS}/{tid}/evt-1").json() == got
    assert app.get(f"{EVENTS}/{tid}/nope").status_code == 404
    listed = app.get("/_sandbox/state", params={"object": "timeline_events"}).json()
    assert listed["records"] == [got]


def test_unknown_email_creates_the_contact_and_ids_are_generated(app: Api) -> None:
    tid = make_template(app)["id"]
    resp = app.post(EVENTS, json=event(tid, email="new.learner@example.com"))
    assert resp.status_code == 201, resp.text
    got = resp.json()
    assert got["id"].startswith(f"{SANDBOX_APP_ID}:{tid}:new.learner@example.com-")
    contact = app.get(f"/crm/v3/objects/contacts/{got['objectId']}", params={"properties": "email"})
    assert contact.json()["properties"]["email"] == "new.learner@example.com"
    again = app.post(EVENTS, json=event(tid, email="new.learner@example.com"))
    assert again.json()["objectId"] == got["objectId"]


def test_a_repeated_event_id_is_refused_and_creates_nothing(app: Api) -> None:
    tid = make_template(app)["id"]
    assert app.post(EVENTS, json=event(tid, objectId="1001", id="same")).status_code == 201
    dup = app.post(EVENTS, json=event(tid, objectId="1002", id="same"))
    assert dup.status_code == 400
    assert dup.json()["message"] == "Event ID already in use, please choose a new unique ID"
    assert dup.json()["context"]["id"] == ["same"]
    assert app.get(f"{EVENTS}/{tid}/same").json()["objectId"] == "1001"
    # The id is unique per template: another template may use it.
    other = make_template(app, {**TEMPLATE, "name": "Assessment passed"})["id"]
    assert app.post(EVENTS, json=event(other, objectId="1001", id="same")).status_code == 201


@pytest.mark.parametrize(
    ("fields", "status", "needle"),
    [
        ({"eventTemplateId": "999"}, 404, "Event template 999 not found"),
        ({}, 400, "objectId is required"),
        ({"objectId": "424242"}, 404, "No contacts record"),
        ({"objectId": "1001", "tokens": {"score": "lots"}}, 400, "must be a number"),
        ({"objectId": "1001", "tokens": {"level": "expert"}}, 400, "must be one of"),
        ({"objectId": "1001", "tokens": {"completed_on": "soon"}}, 400, "must be a date"),
        ({"objectId": "1001", "tokens": {"unknown": "x"}}, 400, "is not defined"),
    ],
)
def test_invalid_events_get_hubspots_errors(
    app: Api, fields: dict[str, Any], status: int, needle: str
) -> None:
    tid = make_template(app)["id"]
    resp = app.post(EVENTS, json={**event(tid), **fields})
    assert resp.status_code == status, resp.text
    assert needle in resp.json()["message"]
    assert app.get("/_sandbox/state", params={"object": "timeline_events"}).json()["records"] == []


def test_batch_create_is_201_or_207_with_per_event_errors(app: Api) -> None:
    tid = make_template(app)["id"]
    ok = app.post(
        f"{EVENTS}/batch/create",
        json={"inputs": [event(tid, objectId="1001", id="a"), event(tid, objectId="1002", id="b")]},
    )
    assert ok.status_code == 201, ok.text
    assert sorted(r["id"] for r in ok.json()["results"]) == ["a", "b"]
    mixed = app.post(
        f"{EVENTS}/batch/create",
        json={
            "inputs": [
                event(tid, objectId="1001", id="a"),  # already sent
                event(tid, objectId="1003", id="c"),
                event(tid, objectId="1003", id="c"),  # twice in one batch
                event(tid, id="d"),  # no record
            ]
        },
    )
    assert mixed.status_code == 207, mixed.text
    body = mixed.json()
    assert [r["id"] for r in body["results"]] == ["c"]
    assert body["numErrors"] == 3
    assert [e["context"].get("id") for e in body["errors"]] == [["a"], ["c"], None]
    events = app.get("/_sandbox/state", params={"object": "timeline_events"}).json()["records"]
    assert sorted(e["id"] for e in events) == ["a", "b", "c"]


def test_private_app_tokens_cannot_send_timeline_events(hs: Api, app: Api) -> None:
    tid = make_template(app)["id"]
    for resp in (
        hs.post(EVENTS, json=event(tid, objectId="1001")),
        hs.post(f"{EVENTS}/batch/create", json={"inputs": [event(tid, objectId="1001")]}),
    ):
        assert resp.status_code == 403
        assert "Private apps do not support custom timeline events" in resp.json()["message"]
    assert app.get("/_sandbox/state", params={"object": "timeline_events"}).json()["records"] == []
