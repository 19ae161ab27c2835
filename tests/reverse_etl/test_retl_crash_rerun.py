"""Kill the sync process at random points (SIGKILL), rerun, and compare HubSpot with the marts:
the end state must be what one uninterrupted run produces, with no duplicate tasks, notes or
contacts."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.reverse_etl.retl_support import (
    activity_rows,
    contact_rows,
    deal_rows,
    list_all,
    query,
    task_rows,
    uncapped_config,
    write_marts,
)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "pat-na1-canary-crash-0000-0000"
KILLS = 12


def spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "reverse_etl", "sync"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run_sync(env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """One sync left to finish on its own."""
    return subprocess.run(
        [sys.executable, "-m", "reverse_etl", "sync"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )


def write_calls(client: httpx.Client) -> int:
    return int(client.get("/_sandbox/calls").json()["write_calls"])


def more_work(
    tables: dict[str, list[dict[str, Any]]], contacts: list[dict[str, Any]], owner: str, round_: int
) -> None:
    for row in tables["rev_etl__hubspot_contacts"][(round_ * 37) % 100 :][:100]:
        row["lms_engagement_score"] = round(row["lms_engagement_score"] + 1.5, 2)
    notes = tables["rev_etl__hubspot_activities"]
    fresh = activity_rows(contacts, len(notes) + 40)[len(notes) :]
    notes += fresh
    tasks = tables["rev_etl__hubspot_tasks"]
    tasks += task_rows(contacts, owner, len(tasks) + 8)[len(tasks) :]


@pytest.mark.timeout(600)
def test_sigkill_at_random_points_then_rerun_converges_without_duplicates(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    sandbox = fresh_sandbox
    # A little latency so kills land inside the run, and no rate limit in the way.
    sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000, "latency_ms": 30})
    url = sandbox.hubspot_url
    contacts = [
        c for c in list_all(url, TOKEN, "contacts", ["email"]) if c["properties"].get("email")
    ]
    deals = list_all(url, TOKEN, "deals")
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        owner = c.get("/crm/v3/owners").json()["results"][0]["id"]
    n_contacts_before = len(list_all(url, TOKEN, "contacts"))
    tables = {
        "rev_etl__hubspot_contacts": contact_rows(contacts, 150),
        "rev_etl__hubspot_deals": deal_rows(deals, 30),
        "rev_etl__hubspot_tasks": task_rows(contacts, owner, 100),
        "rev_etl__hubspot_activities": activity_rows(contacts, 150),
    }
    warehouse = tmp_path / "warehouse.duckdb"
    write_marts(warehouse, tables)
    env = {
        **os.environ,
        **sandbox.env(),
        "LMSBRIDGE_HUBSPOT_BASE_URL": url,
        "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN": TOKEN,
        "LMSBRIDGE_WAREHOUSE_PATH": str(warehouse),
        # uncapped: 100+ tasks for one owner must all converge, not wait for later runs
        "LMSBRIDGE_SYNC_CONFIG_PATH": str(uncapped_config(tmp_path)),
    }
    rng = random.Random(20261123)
    kills = 0
    mid_write = 0
    with httpx.Client(base_url=url, timeout=30) as control:
        for attempt in range(KILLS):
            if attempt:
                # The marts move on between crashes, as they do between real runs, so every
                # run has writes of each kind to be interrupted in.
                more_work(tables, contacts, owner, attempt)
                write_marts(warehouse, tables)
            start = write_calls(control)
            process = spawn(env)
            # Most kills wait for k write calls seen by HubSpot; the rest use a random delay,
            # which also lands in start-up, planning, setup and state writes.
            if attempt % 3 != 2:
                target = start + rng.randint(1, 4)
                deadline = time.monotonic() + 60
                while (
                    write_calls(control) < target
                    and process.poll() is None
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.005)
            else:
                time.sleep(rng.uniform(0.2, 1.5))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                kills += 1
                if write_calls(control) > start:
                    mid_write += 1
            process.wait(timeout=60)
        assert kills >= 10, f"only {kills} runs were still going when killed"
        assert mid_write >= 5, f"only {mid_write} kills landed after writes had started"
        sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000})
        final = run_sync(env)
        assert final.returncode == 0, final.stderr.decode()[-2000:]
        # A second clean run has nothing left to do.
        before = write_calls(control)
        again = run_sync(env)
        assert again.returncode == 0
        assert write_calls(control) == before

    # Same state as one uninterrupted run: every row once, with the mart's values.
    tasks = list_all(
        url, TOKEN, "tasks", ["lms_task_key", "hs_task_subject"], associations="contacts"
    )
    keys = Counter(t["properties"].get("lms_task_key") for t in tasks)
    assert keys == Counter(r["task_key"] for r in tables["rev_etl__hubspot_tasks"])
    expected_link = {
        r["task_key"]: r["hubspot_contact_id"] for r in tables["rev_etl__hubspot_tasks"]
    }
    for t in tasks:
        linked = {a["id"] for a in t.get("associations", {}).get("contacts", {}).get("results", [])}
        assert linked == {expected_link[t["properties"]["lms_task_key"]]}
    notes = list_all(
        url, TOKEN, "notes", ["lms_activity_key", "hs_note_body"], associations="contacts"
    )
    assert Counter(n["properties"].get("lms_activity_key") for n in notes) == Counter(
        r["activity_key"] for r in tables["rev_etl__hubspot_activities"]
    )
    assert all(n.get("associations", {}).get("contacts", {}).get("results") for n in notes)
    held = {
        c["id"]: c["properties"]
        for c in list_all(url, TOKEN, "contacts", ["lms_user_id", "lms_engagement_score"])
    }
    assert len(held) == n_contacts_before
    for row in tables["rev_etl__hubspot_contacts"]:
        assert held[row["hubspot_contact_id"]]["lms_user_id"] == row["lms_user_id"]
    [(confirmed,)] = query(warehouse, "select count(*) from reverse_etl.sync_state")
    assert confirmed == sum(len(rows) for rows in tables.values())
    sandbox.control_post("hubspot", "/_sandbox/chaos", {})
