"""Helpers for the HubSpot emulator tests: a small dataset and a client."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

TOKEN = "pat-na1-test-token"
N_CONTACTS = 30
N_COMPANIES = 5
N_DEALS = 6
BASE_MS = 1_700_000_000_000
STAGES = ["subscriber", "lead", "marketingqualifiedlead", "customer", "other"]


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _record(
    record_id: int, props: dict[str, str], created_ms: int, updated_ms: int
) -> dict[str, Any]:
    return {
        "id": str(record_id),
        "properties": props,
        "createdAt": iso(created_ms),
        "updatedAt": iso(updated_ms),
        "archived": False,
    }


def _edge(from_type: str, from_id: int, to_type: str, to_id: int, type_id: int) -> dict[str, Any]:
    return {
        "from_type": from_type,
        "from_id": str(from_id),
        "to_type": to_type,
        "to_id": str(to_id),
        "type_id": type_id,
        "category": "HUBSPOT_DEFINED",
    }


def write_dataset(root: Path) -> Path:
    """A tiny dataset in the contracts.md section 1 layout (hubspot/ files only)."""
    hub = root / "hubspot"
    hub.mkdir(parents=True, exist_ok=True)
    _write(
        hub / "owners.jsonl",
        [
            {
                "id": str(500 + i),
                "email": f"owner{i}@corp.example",
                "firstName": f"Owner{i}",
                "lastName": "Test",
                "userId": 9000 + i,
                "userIdIncludingInactive": 9000 + i,
                "type": "PERSON",
                "archived": False,
                "createdAt": iso(BASE_MS),
                "updatedAt": iso(BASE_MS),
                "teams": [],
            }
            for i in range(3)
        ],
    )
    _write(
        hub / "properties.jsonl",
        [
            {
                "objectType": "contacts",
                "name": "lms_user_id",
                "label": "LMS user id",
                "type": "string",
                "fieldType": "text",
                "groupName": "lmsbridge",
                "hasUniqueValue": False,
            }
        ],
    )
    companies = []
    for i in range(N_COMPANIES):
        ms = BASE_MS + i * 1000
        props = {
            "name": f"Company {i}",
            "domain": f"company{i}.example",
            "createdate": iso(ms),
            "hs_lastmodifieddate": iso(ms),
        }
        companies.append(_record(100 + i, props, ms, ms))
    _write(hub / "companies.jsonl", companies)
    contacts = []
    for i in range(N_CONTACTS):
        ms = BASE_MS + i * 60_000
        props = {
            "email": f"Person{i}@Example.com",
            "firstname": f"First{i}",
            "lastname": f"Last{i}",
            "lifecyclestage": STAGES[i % len(STAGES)],
            "hubspot_owner_id": str(500 + i % 3),
            "createdate": iso(ms),
            "lastmodifieddate": iso(ms + 1000),
        }
        if i % 4 == 0:
            props["hs_additional_emails"] = f"alt{i}@other.example;second{i}@other.example"
        if i % 2 == 0:
            props["lms_user_id"] = f"u-{i}"
        contacts.append(_record(1000 + i, props, ms, ms + 1000))
    _write(hub / "contacts.jsonl", contacts)
    deals = []
    for i in range(N_DEALS):
        ms = BASE_MS + i * 3_600_000
        props = {
            "dealname": f"Deal {i}",
            "dealstage": "closedwon" if i % 2 else "appointmentscheduled",
            "pipeline": "default",
            "closedate": iso(ms + 86_400_000),
            "createdate": iso(ms),
            "hs_lastmodifieddate": iso(ms),
            "hubspot_owner_id": "500",
        }
        if i != 0:
            props["amount"] = str(1000 * i)
        deals.append(_record(5000 + i, props, ms, ms))
    _write(hub / "deals.jsonl", deals)
    assoc = []
    for i in range(0, N_CONTACTS, 2):  # odd contacts have no company
        company = 100 + i % N_COMPANIES
        for type_id in (1, 279):
            assoc.append(_edge("contacts", 1000 + i, "companies", company, type_id))
    for i in range(N_DEALS):
        assoc.append(_edge("deals", 5000 + i, "contacts", 1000 + i, 3))
        for type_id in (5, 341):
            assoc.append(_edge("deals", 5000 + i, "companies", 100 + i % N_COMPANIES, type_id))
    _write(hub / "associations.jsonl", assoc)
    return root


class Api(httpx.Client):
    """An httpx client with the bearer token set, plus control-API shortcuts."""

    def __init__(self, base_url: str, token: str | None = TOKEN) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        super().__init__(base_url=base_url, headers=headers, timeout=30)

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = self.post(f"/_sandbox/{path}", json=body or {})
        resp.raise_for_status()
        return resp.json()

    def calls(self) -> dict[str, Any]:
        return self.get("/_sandbox/calls").json()

    def create(self, object_type: str, props: dict[str, Any], **extra: Any) -> httpx.Response:
        return self.post(f"/crm/v3/objects/{object_type}", json={"properties": props, **extra})
