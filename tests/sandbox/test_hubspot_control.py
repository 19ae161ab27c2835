"""The `/_sandbox/` hooks: load, state, reset, mutate, touch, injected failures."""

from __future__ import annotations

from pathlib import Path

from sandbox.hubspot import create_app, load_dataset
from tests.sandbox.hubspot_support import N_COMPANIES, N_CONTACTS, N_DEALS, Api


def test_load_dataset_function_returns_counts(hs_dataset_dir: Path) -> None:
    app = create_app()
    counts = load_dataset(app, hs_dataset_dir)
    assert counts["contacts"] == N_CONTACTS
    assert counts["companies"] == N_COMPANIES
    assert counts["deals"] == N_DEALS
    assert counts["owners"] == 3 and counts["properties"] == 1
    assert counts["associations"] > 0


def test_state_counts_and_records(hs: Api) -> None:
    counts = hs.get("/_sandbox/state").json()["counts"]
    assert counts["contacts"] == N_CONTACTS and counts["deals"] == N_DEALS
    records = hs.get("/_sandbox/state", params={"object": "contacts"}).json()["records"]
    assert len(records) == N_CONTACTS
    assert records[0]["properties"]["email"] == "person0@example.com"  # lowercased on load


def test_reset_empties_everything(hs: Api) -> None:
    hs.control("reset")
    counts = hs.get("/_sandbox/state").json()["counts"]
    assert counts["contacts"] == 0 and counts["owners"] == 0
    names = {p["name"] for p in hs.get("/crm/v3/properties/contacts").json()["results"]}
    assert "lms_user_id" not in names and "email" in names


def test_mutate_changes_a_fraction_and_bumps_last_modified(hs: Api) -> None:
    before = hs.post(
        "/crm/v3/objects/contacts/search",
        json={
            "limit": 1,
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}],
        },
    ).json()["results"][0]
    result = hs.control("mutate", {"fraction": 0.2, "seed": 7})
    changed = result["changed"]["contacts"]
    assert len(changed) == round(N_CONTACTS * 0.2)
    assert len(result["changed"]["deals"]) == round(N_DEALS * 0.2)
    resp = hs.post(
        "/crm/v3/objects/contacts/search",
        json={
            "limit": 100,
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "lastmodifieddate",
                            "operator": "GT",
                            "value": before["properties"]["lastmodifieddate"],
                        }
                    ]
                }
            ],
        },
    )
    assert sorted(r["id"] for r in resp.json()["results"]) == sorted(changed)
    again = hs.control("mutate", {"fraction": 0.2, "seed": 7})["changed"]["contacts"]
    assert again == changed  # seeded


def test_injected_errors_look_like_hubspot(hs: Api) -> None:
    hs.control("chaos", {"fail_after": 0})
    resp = hs.get("/crm/v3/objects/contacts")
    assert resp.status_code == 503
    assert resp.json()["status"] == "error" and resp.json()["correlationId"]
    hs.control("chaos", {})
    assert hs.get("/crm/v3/objects/contacts").status_code == 200


def test_bad_dataset_rows_and_control_bodies_are_400(hs: Api, tmp_path: Path) -> None:
    hub = tmp_path / "hubspot"
    hub.mkdir()
    (hub / "contacts.jsonl").write_text('{"properties": {"email": "no-id@x.com"}}\n')
    resp = hs.post("/_sandbox/load", json={"path": str(tmp_path)})
    assert resp.status_code == 400 and "contacts.jsonl row 1" in resp.json()["message"]
    (hub / "contacts.jsonl").write_text("{broken\n")
    resp = hs.post("/_sandbox/load", json={"path": str(tmp_path)})
    assert resp.status_code == 400 and "invalid JSON" in resp.json()["message"]
    assert hs.post("/_sandbox/mutate", json={"fraction": 7}).status_code == 400
    assert hs.post("/_sandbox/touch", json={"object": "widgets", "count": 1}).status_code == 400
