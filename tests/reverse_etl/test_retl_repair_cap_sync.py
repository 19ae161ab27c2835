"""Against the HubSpot emulator: the per-owner task cap defers and catches up, a rerun with
new due dates writes nothing, and `--repair` restores what was changed or deleted by hand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reverse_etl import run_syncs
from reverse_etl.results import SyncRunResult
from tests.reverse_etl.retl_support import (
    activity_rows,
    contact_rows,
    list_all,
    task_rows,
    write_marts,
)
from tests.reverse_etl.test_retl_sync_integration import TOKEN, Hub

SYNCS = ["contacts", "tasks", "notes"]


def sync(hub: Hub, **options: Any) -> dict[str, SyncRunResult]:
    results = {r.name: r for r in run_syncs(hub.settings(), only=SYNCS, **options)}
    assert all(r.status == "ok" for r in results.values()), [r.error for r in results.values()]
    return results


def by_key(hub: Hub, object_type: str, key_property: str) -> dict[str, dict[str, Any]]:
    records = list_all(hub.url, TOKEN, object_type, [key_property], associations="contacts")
    return {r["properties"][key_property]: r for r in records}


def engagement(hub: Hub, contact_id: str) -> str | None:
    response = hub.api(
        "GET", f"/crm/v3/objects/contacts/{contact_id}?properties=lms_engagement_score"
    )
    return response.json()["properties"].get("lms_engagement_score") or None


def test_cap_defers_then_catches_up_and_repair_restores_hand_edits(fast_hub: Hub) -> None:
    hub = fast_hub
    with_email = [c for c in hub.contacts if c["properties"].get("email")]
    owners = hub.api("GET", "/crm/v3/owners").json()["results"]
    first, second = owners[0]["id"], owners[1]["id"]
    tasks = task_rows(with_email, first, 30)
    for row in task_rows(with_email[30:], second, 5):
        tasks.append(row)
    contacts = contact_rows(with_email, 10)
    tables = {
        "rev_etl__hubspot_contacts": contacts,
        "rev_etl__hubspot_tasks": tasks,
        "rev_etl__hubspot_activities": activity_rows(with_email, 5),
    }
    write_marts(hub.warehouse, tables)

    # 1. The first sync: 25 tasks for the first owner (the newest completions), 5 for the
    # second; the 5 oldest of the first owner wait, neither sent nor rejected.
    one = sync(hub)
    assert one["tasks"].by_owner == one["tasks"].by_owner_confirmed == {first: 25, second: 5}
    assert (one["tasks"].deferred, one["tasks"].succeeded, one["tasks"].rejected) == (5, 30, 0)
    oldest = {r["task_key"] for r in tasks[25:30]}
    assert oldest.isdisjoint(by_key(hub, "tasks", "lms_task_key"))

    # 2. Hand edits in HubSpot: a synced value cleared in the UI, a note and a task deleted.
    target = contacts[3]["hubspot_contact_id"]  # engagement score 3.75
    hub.sandbox.control_post(
        "hubspot",
        f"/_sandbox/objects/contacts/{target}/edit",
        {"properties": {"lms_engagement_score": ""}},
    )
    notes = by_key(hub, "notes", "lms_activity_key")
    lost_note = tables["rev_etl__hubspot_activities"][2]
    note_id = notes[lost_note["activity_key"]]["id"]
    assert hub.api("DELETE", f"/crm/v3/objects/notes/{note_id}").status_code == 204
    lost_task = tasks[0]["task_key"]
    task_id = by_key(hub, "tasks", "lms_task_key")[lost_task]["id"]
    assert hub.api("DELETE", f"/crm/v3/objects/tasks/{task_id}").status_code == 204

    # 3. The next build, a minute later: every due date moved. A normal sync sends only the
    # deferred tasks; the hand edits stay invisible to it.
    for row in tasks:
        row["hs_timestamp"] += timedelta(minutes=1)
    write_marts(hub.warehouse, tables)
    two = sync(hub)
    assert (two["tasks"].sent, two["tasks"].deferred, two["tasks"].by_owner) == (5, 0, {first: 5})
    assert two["contacts"].sent == two["notes"].sent == 0
    assert engagement(hub, target) is None
    assert len(by_key(hub, "notes", "lms_activity_key")) == 4

    # 4. Dry run with repair: reads only, and says what it would re-send.
    hub.reset_calls()
    dry = sync(hub, dry_run=True, repair=True)
    assert {n: r.repaired for n, r in dry.items()} == {"contacts": 1, "tasks": 1, "notes": 1}
    assert hub.calls()["write_calls"] == 0
    assert dry["contacts"].plan is not None
    [write] = dry["contacts"].plan.writes
    assert write.properties == {"lms_engagement_score": str(contacts[3]["lms_engagement_score"])}

    # 5. Repair: the cleared value is back, the note and the task exist again, linked.
    fixed = sync(hub, repair=True)
    assert {n: (r.repaired, r.succeeded) for n, r in fixed.items()} == {
        "contacts": (1, 1),
        "tasks": (1, 1),
        "notes": (1, 1),
    }
    assert float(engagement(hub, target) or "nan") == contacts[3]["lms_engagement_score"]
    notes = by_key(hub, "notes", "lms_activity_key")
    linked = {
        a["id"] for a in notes[lost_note["activity_key"]]["associations"]["contacts"]["results"]
    }
    assert len(notes) == 5 and linked == {lost_note["hubspot_contact_id"]}
    assert len(by_key(hub, "tasks", "lms_task_key")) == 35

    # 6. Everything in place: a normal rerun makes no call at all.
    hub.reset_calls()
    three = sync(hub)
    assert hub.calls()["total"] == 0
    assert all(r.sent == 0 and r.deferred == 0 for r in three.values())
