"""Engagement objects (calls, emails, meetings): the CRM v3 object endpoints and their v4
associations with contacts, as the real API serves them (same generic machinery as notes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.hubspot_support import BASE_MS, Api, iso, write_dataset

HOUR_MS = 3_600_000
# (object type, first id, contact type id, properties of one record by its index)
KINDS = {
    "calls": (7000, 194, lambda i: {"hs_call_direction": "OUTBOUND", "hs_call_duration": "90000"}),
    "emails": (8000, 198, lambda i: {"hs_email_direction": "EMAIL", "hs_email_subject": f"s{i}"}),
    "meetings": (9000, 200, lambda i: {"hs_meeting_outcome": "COMPLETED"}),
}
PER_KIND = 5


def _engagement(kind: str, i: int) -> dict[str, Any]:
    first, _, extra = KINDS[kind]
    modified = BASE_MS + i * HOUR_MS
    props = {
        "hs_timestamp": iso(modified - HOUR_MS),
        "hs_createdate": iso(modified - HOUR_MS),
        "hs_lastmodifieddate": iso(modified),
        "hubspot_owner_id": "500",
        **extra(i),
    }
    if i == PER_KIND - 1:
        del props["hs_timestamp"]  # older portals hold a few activities without one
    return {
        "id": str(first + i),
        "properties": props,
        "createdAt": props["hs_createdate"],
        "updatedAt": props["hs_lastmodifieddate"],
        "archived": False,
    }


@pytest.fixture
def hs_engagements(hs: Api, tmp_path: Path) -> Iterator[Api]:
    """The small dataset plus PER_KIND engagements of each kind; the first of each is
    associated with contacts 1000 and 1001, the others with contact 1000 only."""
    root = write_dataset(tmp_path)
    hub = root / "hubspot"
    edges = []
    for kind, (first, type_id, _) in KINDS.items():
        rows = [_engagement(kind, i) for i in range(PER_KIND)]
        (hub / f"{kind}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
        for i in range(PER_KIND):
            for contact in ("1000", "1001") if i == 0 else ("1000",):
                edge = {"from_type": kind, "from_id": str(first + i), "to_type": "contacts"}
                edge |= {"to_id": contact, "type_id": type_id, "category": "HUBSPOT_DEFINED"}
                edges.append(edge)
    with (hub / "associations.jsonl").open("a") as out:
        out.write("".join(json.dumps(e) + "\n" for e in edges))
    hs.control("load", {"path": str(root)})
    yield hs


@pytest.mark.parametrize("kind", list(KINDS))
def test_list_pages_and_get_return_engagement_properties(hs_engagements: Api, kind: str) -> None:
    first = KINDS[kind][0]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2, "properties": "hs_timestamp,hubspot_owner_id"}
    while True:
        resp = hs_engagements.get(f"/crm/v3/objects/{kind}", params=params)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        seen += [r["id"] for r in body["results"]]
        after = (body.get("paging") or {}).get("next", {}).get("after")
        if not after:
            break
        params["after"] = after
    assert seen == [str(first + i) for i in range(PER_KIND)]
    one = hs_engagements.get(
        f"/crm/v3/objects/{kind}/{first}", params={"properties": "hs_timestamp"}
    )
    assert one.status_code == 200
    assert one.json()["properties"]["hs_timestamp"] == iso(BASE_MS - HOUR_MS)
    # the defaults engagements return: no hs_timestamp unless asked for
    default = hs_engagements.get(f"/crm/v3/objects/{kind}/{first}").json()["properties"]
    assert set(default) == {"hs_createdate", "hs_lastmodifieddate", "hs_object_id"}


def test_object_type_ids_resolve(hs_engagements: Api) -> None:
    for type_id, first in (("0-48", 7000), ("0-49", 8000), ("0-47", 9000)):
        assert hs_engagements.get(f"/crm/v3/objects/{type_id}/{first}").status_code == 200


@pytest.mark.parametrize("kind", list(KINDS))
def test_search_on_last_modified_gte_sorted(hs_engagements: Api, kind: str) -> None:
    first = KINDS[kind][0]
    body = {
        "filterGroups": [
            {
                "filters": [
                    {
                        "propertyName": "hs_lastmodifieddate",
                        "operator": "GTE",
                        "value": str(BASE_MS + 2 * HOUR_MS),
                    }
                ]
            }
        ],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
        "properties": ["hs_lastmodifieddate"],
        "limit": 2,
    }
    resp = hs_engagements.post(f"/crm/v3/objects/{kind}/search", json=body)
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert page["total"] == 3
    assert [r["id"] for r in page["results"]] == [str(first + 4), str(first + 3)]
    assert page["paging"]["next"]["after"] == "2"


def test_search_finds_a_null_timestamp_with_not_has_property(hs_engagements: Api) -> None:
    flt = {"propertyName": "hs_timestamp", "operator": "NOT_HAS_PROPERTY"}
    resp = hs_engagements.post(
        "/crm/v3/objects/calls/search", json={"filterGroups": [{"filters": [flt]}]}
    )
    assert [r["id"] for r in resp.json()["results"]] == [str(7000 + PER_KIND - 1)]


def test_batch_read_with_properties_and_missing_id(hs_engagements: Api) -> None:
    resp = hs_engagements.post(
        "/crm/v3/objects/meetings/batch/read",
        json={"properties": ["hs_meeting_outcome"], "inputs": [{"id": "9001"}, {"id": "1"}]},
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [(r["id"], r["properties"]["hs_meeting_outcome"]) for r in body["results"]] == [
        ("9001", "COMPLETED")
    ]
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"


def test_create_requires_hs_timestamp(hs_engagements: Api) -> None:
    refused = hs_engagements.create("calls", {"hs_call_title": "no time"})
    assert refused.status_code == 400
    made = hs_engagements.create("calls", {"hs_timestamp": iso(BASE_MS), "hs_call_title": "ok"})
    assert made.status_code == 201, made.text


@pytest.mark.parametrize(
    ("kind", "to_contact", "from_contact"),
    [("calls", 194, 193), ("emails", 198, 197), ("meetings", 200, 199)],
)
def test_associations_to_contacts_both_directions(
    hs_engagements: Api, kind: str, to_contact: int, from_contact: int
) -> None:
    first = KINDS[kind][0]
    resp = hs_engagements.post(
        f"/crm/v4/associations/{kind}/contacts/batch/read",
        json={"inputs": [{"id": str(first)}, {"id": str(first + 1)}]},
    )
    assert resp.status_code == 200, resp.text
    edges = {
        r["from"]["id"]: sorted(
            (t["toObjectId"], t["associationTypes"][0]["typeId"]) for t in r["to"]
        )
        for r in resp.json()["results"]
    }
    assert edges == {
        str(first): [(1000, to_contact), (1001, to_contact)],
        str(first + 1): [(1000, to_contact)],
    }
    back = hs_engagements.post(
        f"/crm/v4/associations/contacts/{kind}/batch/read", json={"inputs": [{"id": "1001"}]}
    )
    [result] = back.json()["results"]
    assert result["to"] == [
        {
            "toObjectId": first,
            "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": from_contact, "label": None}
            ],
        }
    ]
    labels = hs_engagements.get(f"/crm/v4/associations/{kind}/contacts/labels").json()["results"]
    assert labels == [{"category": "HUBSPOT_DEFINED", "typeId": to_contact, "label": None}]
