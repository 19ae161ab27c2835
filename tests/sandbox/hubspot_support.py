"""Helpers for the HubSpot emulator tests: a live server, a small dataset, a client."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

TOKEN = "pat-na1-test-token"
N_CONTACTS = 30
N_COMPANIES = 5
N_DEALS = 6
BASE_MS = 1_700_000_000_000
STAGES = ["subscriber", "lead", "marketingqualifiedlead", "customer", "other"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run an ASGI app under a real uvicorn server on a free 127.0.0.1 port."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("HubSpot emulator did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


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
        companies.append(
            {
                "id": str(100 + i),
                "properties": {
                    "name": f"Company {i}",
                    "domain": f"company{i}.example",
                    "createdate": iso(ms),
                    "hs_lastmodifieddate": iso(ms),
                },
                "createdAt": iso(ms),
                "updatedAt": iso(ms),
                "archived": False,
            }
        )
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
        contacts.append(
            {
                "id": str(1000 + i),
                "properties": props,
                "createdAt": iso(ms),
                "updatedAt": iso(ms + 1000),
                "archived": False,
            }
        )
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
        deals.append(
            {
                "id": str(5000 + i),
                "properties": props,
                "createdAt": iso(ms),
                "updatedAt": iso(ms),
                "archived": False,
            }
        )
    _write(hub / "deals.jsonl", deals)
    assoc = []
    for i in range(0, N_CONTACTS, 2):  # odd contacts have no company
        company = str(100 + i % N_COMPANIES)
        for type_id in (1, 279):
            assoc.append(
                {
                    "from_type": "contacts",
                    "from_id": str(1000 + i),
                    "to_type": "companies",
                    "to_id": company,
                    "type_id": type_id,
                    "category": "HUBSPOT_DEFINED",
                }
            )
    for i in range(N_DEALS):
        assoc.append(
            {
                "from_type": "deals",
                "from_id": str(5000 + i),
                "to_type": "contacts",
                "to_id": str(1000 + i),
                "type_id": 3,
                "category": "HUBSPOT_DEFINED",
            }
        )
        for type_id in (5, 341):
            assoc.append(
                {
                    "from_type": "deals",
                    "from_id": str(5000 + i),
                    "to_type": "companies",
                    "to_id": str(100 + i % N_COMPANIES),
                    "type_id": type_id,
                    "category": "HUBSPOT_DEFINED",
                }
            )
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
