"""A contact merged in HubSpot between two runs: the next run writes to the survivor only,
gives it our properties once, and duplicates no task or note."""

from __future__ import annotations

import json as jsonlib
from pathlib import Path
from typing import Any

import duckdb
import pytest

from reverse_etl import run_syncs
from reverse_etl.client import HubSpotClient
from tests.reverse_etl.retl_support import (
    activity_rows,
    contact_rows,
    key,
    list_all,
    query,
    task_rows,
    uncapped_config,
    write_marts,
)
from tests.reverse_etl.test_retl_sync_integration import Hub, hub  # noqa: F401  (fixture)


def _spy_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Every HubSpot call the sync makes: (method, path, JSON body)."""
    seen: list[tuple[str, str, str]] = []
    original = HubSpotClient.call

    def call(self: HubSpotClient, method: str, path: str, json: Any = None) -> Any:
        seen.append((method, path, jsonlib.dumps(json)))
        return original(self, method, path, json)

    monkeypatch.setattr(HubSpotClient, "call", call)
    return seen


def _store_merges(warehouse: Path, merges: dict[str, str]) -> None:
    """What dbt's int_contact_merges holds after the extract saw the merge."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists intermediate")
        con.execute(
            "create or replace table intermediate.int_contact_merges "
            "(merged_contact_id text, survivor_contact_id text)"
        )
        con.executemany(
            "insert into intermediate.int_contact_merges values (?, ?)", list(merges.items())
        )
    finally:
        con.close()


def test_next_run_after_a_merge_writes_to_the_survivor_only(
    hub: Hub,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub.config = uncapped_config(tmp_path)
    with_email = [c for c in hub.contacts if c["properties"].get("email")]
    matched = [with_email[0], with_email[2]]  # learner-00000 -> A, learner-00001 -> C
    a, survivor, c = with_email[0]["id"], with_email[1]["id"], with_email[2]["id"]
    contacts = contact_rows(matched, 2)
    contacts[0]["lms_engagement_score"] = 7.5
    tasks = task_rows(matched, hub.owner_id, 2)
    notes = activity_rows(matched, 4)
    write_marts(
        hub.warehouse,
        {
            "rev_etl__hubspot_contacts": contacts,
            "rev_etl__hubspot_tasks": tasks,
            "rev_etl__hubspot_activities": notes,
        },
    )
    first = run_syncs(hub.settings())
    assert all(r.status == "ok" for r in first), [r.error for r in first]
    n_tasks = len(list_all(hub.url, hub.token, "tasks"))
    n_notes = len(list_all(hub.url, hub.token, "notes"))
    assert n_tasks >= 2 and n_notes >= 4

    # The survivor holds its own, stale value of one of our properties: a merge keeps the
    # primary's values, so only a full re-send makes it right.
    stale = hub.api(
        "PATCH",
        f"/crm/v3/objects/contacts/{survivor}",
        {"properties": {"lms_engagement_score": "99"}},
    )
    assert stale.status_code == 200, stale.text
    merged = hub.api(
        "POST",
        "/crm/v3/objects/contacts/merge",
        {"primaryObjectId": survivor, "objectIdToMerge": a},
    )
    assert merged.status_code == 200, merged.text

    # The next build, as dbt makes it: learner-00000 now matches the survivor, the notes
    # follow it, and the task keeps the key of the task already created (int_task_keys).
    contacts[0]["hubspot_contact_id"] = survivor
    tasks[0]["hubspot_contact_id"] = survivor
    assert tasks[0]["task_key"] == key(a, "course-x")
    for note in notes:
        if note["hubspot_contact_id"] == a:
            note["hubspot_contact_id"] = survivor
    write_marts(
        hub.warehouse,
        {
            "rev_etl__hubspot_contacts": contacts,
            "rev_etl__hubspot_tasks": tasks,
            "rev_etl__hubspot_activities": notes,
        },
    )
    _store_merges(hub.warehouse, {a: survivor})
    seen = _spy_calls(monkeypatch)
    second = {r.name: r for r in run_syncs(hub.settings())}
    assert all(r.status == "ok" for r in second.values()), [r.error for r in second.values()]
    assert sum(r.rejected for r in second.values()) == 0

    # No call names the merged-away id, in its path or body.
    assert seen
    assert not [s for s in seen if a in s[1].split("/") or f'"{a}"' in s[2]]
    # The survivor got learner-00000's properties once; C was not touched.
    assert second["contacts"].sent == second["contacts"].succeeded == 1
    got = hub.api("GET", f"/crm/v3/objects/contacts/{survivor}?properties=lms_engagement_score")
    assert float(got.json()["properties"]["lms_engagement_score"]) == 7.5
    state = dict(
        query(
            hub.warehouse,
            "select record_key, hubspot_id from reverse_etl.sync_state where sync_name = 'contacts'",
        )
    )
    assert state == {"learner-00000": survivor, "learner-00001": c}
    # No task or note created twice: the merge moved them to the survivor, none re-created.
    assert second["tasks"].sent == 0
    assert len(list_all(hub.url, hub.token, "tasks")) == n_tasks
    assert len(list_all(hub.url, hub.token, "notes")) == n_notes
    on_survivor = hub.api("GET", f"/crm/v4/objects/contacts/{survivor}/associations/tasks").json()[
        "results"
    ]
    assert len(on_survivor) == 1
