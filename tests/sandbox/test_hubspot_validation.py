"""Property values are checked against their definitions with HubSpot's codes and messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sandbox.hubspot_support import Api


def add_prop(hs: Api, name: str, ptype: str, field_type: str, **extra: Any) -> None:
    body = {
        "name": name,
        "label": name,
        "type": ptype,
        "fieldType": field_type,
        "groupName": "contactinformation",
        **extra,
    }
    assert hs.post("/crm/v3/properties/contacts", json=body).status_code == 201


def patch(hs: Api, props: dict[str, Any], record_id: str = "1001") -> Any:
    return hs.patch(f"/crm/v3/objects/contacts/{record_id}", json={"properties": props})


def stored(hs: Api, name: str, record_id: str = "1001") -> Any:
    body = hs.get(f"/crm/v3/objects/contacts/{record_id}", params={"properties": name}).json()
    return body["properties"][name]


@pytest.fixture
def typed(hs: Api) -> Api:
    add_prop(hs, "score", "number", "number")
    add_prop(hs, "flag", "bool", "booleancheckbox")
    add_prop(hs, "trial_end", "date", "date")
    add_prop(hs, "seen_at", "datetime", "date")
    add_prop(
        hs,
        "tier",
        "enumeration",
        "select",
        options=[{"label": "Gold", "value": "gold"}, {"label": "Silver", "value": "silver"}],
    )
    add_prop(
        hs,
        "tags",
        "enumeration",
        "checkbox",
        options=[{"label": v, "value": v} for v in ("a", "b", "c")],
    )
    return hs


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("score", "1500.5", "1500.5"),
        ("score", 42, "42"),
        ("score", 2.5, "2.5"),
        ("flag", "true", "true"),
        ("flag", False, "false"),
        ("trial_end", "2024-06-30", "2024-06-30"),
        ("trial_end", "1430438400000", "2015-05-01"),
        ("seen_at", "1430438400123", "2015-05-01T00:00:00.123Z"),
        ("seen_at", "2020-02-29T03:30:17Z", "2020-02-29T03:30:17.000Z"),
        ("tier", "gold", "gold"),
        ("tags", "a;c", "a;c"),
    ],
)
def test_valid_values_are_normalized(typed: Api, name: str, value: Any, expected: str) -> None:
    assert patch(typed, {name: value}).status_code == 200
    assert stored(typed, name) == expected


@pytest.mark.parametrize(
    ("name", "value", "code", "fragment"),
    [
        ("score", "1,500", "INVALID_INTEGER", "1,500 was not a valid number."),
        ("score", "1e5", "INVALID_INTEGER", "was not a valid number."),
        ("score", 1.42e-14, "INVALID_INTEGER", "was not a valid number."),
        ("score", "1.2.3", "INVALID_INTEGER", "was not a valid number."),
        ("flag", "yes", "INVALID_BOOLEAN", "yes"),
        ("trial_end", "1635535865000", "INVALID_DATE", "is at 19:31:05.000 UTC, not midnight!"),
        ("trial_end", "30/06/2024", "INVALID_DATE", "30/06/2024"),
        ("seen_at", "soon", "INVALID_DATETIME", "soon"),
        (
            "tier",
            "Gold",
            "INVALID_OPTION",
            "Gold was not one of the allowed options: [gold, silver]",
        ),
        ("tags", "a;z", "INVALID_OPTION", "z was not one of the allowed options"),
        ("nope", "x", "PROPERTY_DOESNT_EXIST", 'Property "nope" does not exist'),
        ("hs_object_id", "5", "READ_ONLY_VALUE", "its value cannot be set"),
        ("createdate", "2024-01-01", "READ_ONLY_VALUE", "its value cannot be set"),
        ("lastmodifieddate", "2024-01-01", "READ_ONLY_VALUE", "its value cannot be set"),
        ("hubspotscore", "5", "READ_ONLY_VALUE", "calculated property"),
        ("email", "not-an-email", "INVALID_EMAIL", "not-an-email"),
    ],
)
def test_invalid_values_get_hubspots_error_body(
    typed: Api, name: str, value: Any, code: str, fragment: str
) -> None:
    resp = patch(typed, {name: value})
    assert resp.status_code == 400
    body = resp.json()
    assert body["status"] == "error" and body["category"] == "VALIDATION_ERROR"
    assert body["message"].startswith("Property values were not valid: ")
    embedded = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert embedded[0]["isValid"] is False and embedded[0]["error"] == code
    assert embedded[0]["name"] == name
    assert fragment in embedded[0]["message"]
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["context"]["propertyName"] == [name]
    assert body["correlationId"] == resp.headers["X-HubSpot-Correlation-Id"]


def test_all_errors_of_a_write_are_reported_together(typed: Api) -> None:
    body = patch(typed, {"score": "x", "tier": "bronze", "firstname": "ok"}).json()
    assert sorted(e["code"] for e in body["errors"]) == ["INVALID_INTEGER", "INVALID_OPTION"]
    assert stored(typed, "firstname") == "First1"


def test_leading_semicolon_appends_to_multi_select(typed: Api) -> None:
    patch(typed, {"tags": "a"})
    patch(typed, {"tags": ";b;c"})
    assert stored(typed, "tags") == "a;b;c"


def test_empty_string_clears_any_type(typed: Api) -> None:
    patch(typed, {"score": "3", "trial_end": "2024-01-01"})
    assert patch(typed, {"score": "", "trial_end": ""}).status_code == 200
    assert stored(typed, "score") is None and stored(typed, "trial_end") is None


def test_email_unique_on_update(hs: Api) -> None:
    resp = patch(hs, {"email": "PERSON2@example.com"})
    assert resp.status_code == 409
    assert resp.json()["message"] == "Contact already exists. Existing ID: 1002"


def test_additional_emails_are_lowercased_and_searchable(hs: Api) -> None:
    assert patch(hs, {"hs_additional_emails": "X@One.example; y@two.example"}).status_code == 200
    assert stored(hs, "hs_additional_emails") == "x@one.example;y@two.example"
    resp = hs.post(
        "/crm/v3/objects/contacts/search",
        json={
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "hs_additional_emails",
                            "operator": "CONTAINS_TOKEN",
                            "value": "y@two.example",
                        }
                    ]
                }
            ]
        },
    )
    assert [r["id"] for r in resp.json()["results"]] == ["1001"]


def test_has_unique_value_is_enforced(hs: Api) -> None:
    add_prop(hs, "ext_id", "string", "text", hasUniqueValue=True)
    assert patch(hs, {"ext_id": "E1"}, "1001").status_code == 200
    clash = patch(hs, {"ext_id": "E1"}, "1002")
    assert clash.status_code == 409 and clash.json()["category"] == "CONFLICT"
    assert patch(hs, {"ext_id": "E1"}, "1001").status_code == 200  # same record keeps it


def test_owner_and_deal_enumerations(hs: Api) -> None:
    ok = hs.patch(
        "/crm/v3/objects/deals/5001",
        json={"properties": {"dealstage": "contractsent", "hubspot_owner_id": "501"}},
    )
    assert ok.status_code == 200
    bad = hs.patch(
        "/crm/v3/objects/deals/5001", json={"properties": {"dealstage": "Contract Sent"}}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "INVALID_OPTION"
    calc = hs.patch("/crm/v3/objects/deals/5001", json={"properties": {"hs_is_closed_won": "true"}})
    assert calc.json()["errors"][0]["code"] == "READ_ONLY_VALUE"
