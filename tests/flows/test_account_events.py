"""Learner account events end to end: LearnWorlds webhooks -> receiver -> extract -> dbt ->
HubSpot notes, against both emulators, with the catalog's switches turned on in a copy of the
dbt project (as a deployment would edit `seeds/event_types.csv`).

Each event happens the way it happens at a school: a tag attached through the API
(PUT /v2/users/{id}/tags), a tag removed by an admin in the UI (control hand edit), an
unenrolment through the API (DELETE /v2/users/{id}/enrollment), subscriptions bought by the
learners (activity control). The webhook receiver lands the deliveries for the next extract.
"""

from __future__ import annotations

import csv
import io
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from flows.pipeline import run_direct
from lmsbridge_core.dbt_invocation import PROJECT_DIR
from lmsbridge_core.settings import Settings
from lmsbridge_demo.receiver import background_receiver
from sandbox.runner import SandboxProcess
from tests.dbt.dbt_runner import copy_project
from tests.sandbox.learnworlds_support import Api

SWITCHED = ("tag_added", "tag_removed", "unenrolled", "subscription_started")
ADDED_TAG = "acct-e2e"
PLAN = "pro-monthly"  # the emulator's subscription plan


def write_seed(project: Path, on: set[str]) -> None:
    """The shipped catalog with `in_activity_feed` true for the account types in `on` (and as
    shipped for every other type)."""
    shipped = (PROJECT_DIR / "seeds" / "event_types.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(shipped)))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        if row["event_type"] in SWITCHED:
            row = {**row, "in_activity_feed": "true" if row["event_type"] in on else "false"}
        writer.writerow(row)
    (project / "seeds" / "event_types.csv").write_text(out.getvalue(), encoding="utf-8")


class School:
    """The emulated school and the webhook deliveries it makes to our receiver."""

    def __init__(self, sandbox: SandboxProcess) -> None:
        self.sandbox = sandbox
        self.api = Api(sandbox.lms_base, sandbox.lms_client_id, sandbox.lms_client_secret)

    def delivered(self) -> None:
        deadline = time.monotonic() + 60
        while (log := self.sandbox.control_get("lms", "webhooks"))["pending"]:
            assert time.monotonic() < deadline, "webhook deliveries still pending"
            time.sleep(0.1)
        failed = [d for d in log["deliveries"] if not d["delivered"]]
        assert not failed, failed[:3]

    def users(self) -> dict[str, dict[str, Any]]:
        records = self.sandbox.control_get("lms", "state", {"object": "users"})["records"]
        return {u["id"]: u for u in records}

    def attach_tag(self, user_id: str, tag: str) -> None:
        body = {"tags": [tag], "action": "attach"}
        response = self.api.send("PUT", f"/v2/users/{user_id}/tags", json=body)
        assert response.status_code == 200, response.text

    def remove_tag_by_hand(self, user: dict[str, Any], tag: str) -> None:
        tags = [t for t in user["tags"] if t != tag]
        self.sandbox.control_post("lms", f"users/{user['id']}/edit", {"tags": tags})

    def unenroll(self, user_id: str) -> dict[str, Any]:
        """Unenrol the learner from their first course; returns that course."""
        courses = self.api.get(f"/v2/users/{user_id}/courses").json()["data"]
        course = courses[0]["course"]
        body = {"productId": course["id"], "productType": "course"}
        response = self.api.send("DELETE", f"/v2/users/{user_id}/enrollment", json=body)
        assert response.status_code == 204, response.text
        return course

    def subscriptions(self, steps: int) -> list[dict[str, Any]]:
        """`steps` subscription steps over every learner (events=0: no learning activity)."""
        report = self.sandbox.control_post(
            "lms",
            "activity",
            {"learners": 100_000, "events": 0, "subscription_events": steps, "seed": 7},
        )
        assert report["enrollments"] == [] and report["completions"] == []
        return list(report["subscriptions"])


def notes(sandbox: SandboxProcess) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every live note: {id: (body, associated contact ids)}, through the public API."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}
    params: dict[str, Any] = {
        "limit": 100,
        "properties": "hs_note_body",
        "associations": "contacts",
    }
    headers = {"Authorization": f"Bearer {sandbox.hubspot_token}"}
    with httpx.Client(base_url=sandbox.hubspot_url, headers=headers, timeout=30) as http:
        while True:
            body = http.get("/crm/v3/objects/notes", params=params).raise_for_status().json()
            for note in body["results"]:
                linked = note.get("associations", {}).get("contacts", {}).get("results", [])
                contacts = tuple(sorted(str(a["id"]) for a in linked))
                out[note["id"]] = (note["properties"]["hs_note_body"], contacts)
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return out
            params["after"] = after


def contacts_of_learners() -> dict[str, str]:
    """{lms_user_id: hubspot_contact_id} of the matched learners, as the warehouse has them."""
    with duckdb.connect(os.environ["LMSBRIDGE_WAREHOUSE_PATH"]) as con:
        rows = con.execute(
            "select lms_user_id, hubspot_contact_id from marts.dim_learners "
            "where lms_user_id is not null and hubspot_contact_id is not null"
        ).fetchall()
    return {str(u): str(c) for u, c in rows}


def run() -> None:
    summary = run_direct(Settings())
    syncs = {s.name: s for s in summary.syncs}
    assert syncs["notes"].status == "ok", syncs["notes"]


def kinds(bodies: list[tuple[str, tuple[str, ...]]]) -> Counter[tuple[str, str]]:
    """(contact, note body without its time) of each note, counted."""
    counted: Counter[tuple[str, str]] = Counter()
    for body, contacts in bodies:
        # a note on no contact or on several shows as the tuple, and fails the comparison
        contact = contacts[0] if len(contacts) == 1 else repr(contacts)
        counted[(contact, body.split(" on ")[0])] += 1
    return counted


@pytest.fixture
def env(
    cli_env: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[SandboxProcess, Path, str]]:
    project = copy_project(tmp_path)
    write_seed(project, set(SWITCHED))
    monkeypatch.setenv("LMSBRIDGE_DBT_PROJECT_DIR", str(project))
    monkeypatch.setenv("LMSBRIDGE_WEBHOOK_LANDING_DIR", str(tmp_path / "webhooks"))
    # HubSpot's search lags writes; the sync's reads must see the notes written just before.
    cli_env.control_post("hubspot", "chaos", {"search_index_lag_ms": 0})
    with background_receiver(Settings()) as hook_url:
        cli_env.control_post("lms", "webhooks", {"url": hook_url})
        try:
            yield cli_env, project, hook_url
        finally:
            cli_env.control_post("lms", "webhooks", {"url": None})


def test_account_events_reach_hubspot_once_and_the_switch_stops_new_ones(
    env: tuple[SandboxProcess, Path, str],
) -> None:
    sandbox, project, _ = env
    school = School(sandbox)
    # A first run matches every learner to a contact, so the event notes below are all made
    # by one run (a contact created by a run is only matched by the next one).
    run()
    matched = contacts_of_learners()
    before = notes(sandbox)
    users = school.users()
    learners = sorted(u for u in matched if u in users)
    assert len(learners) >= 10, "the small dataset matches most learners"
    enrolled = [u for u in learners if school.api.get(f"/v2/users/{u}/courses").json()["data"]]
    tagged = [u for u in learners if users[u]["tags"]]
    assert enrolled and tagged, "the small dataset has enrolled and tagged learners"

    # What happens at the school.
    tag_user, untag_user, unenrol_user = learners[0], tagged[-1], enrolled[len(enrolled) // 2]
    school.attach_tag(tag_user, ADDED_TAG)
    removed_tag = users[untag_user]["tags"][0]
    school.remove_tag_by_hand(school.users()[untag_user], removed_tag)
    course = school.unenroll(unenrol_user)
    subscribed = school.subscriptions(len(users))
    assert {s["event"] for s in subscribed} == {"started"}
    school.delivered()

    expected: Counter[tuple[str, str]] = Counter()
    expected[(matched[tag_user], f'Tagged "{ADDED_TAG}"')] += 1
    expected[(matched[untag_user], f'Tag removed: "{removed_tag}"')] += 1
    expected[(matched[unenrol_user], f'Unenrolled from "{course["title"]}"')] += 1
    for sub in subscribed:
        if sub["user_id"] in matched:
            expected[(matched[sub["user_id"]], f'Started the subscription "{PLAN}"')] += 1

    run()
    after = notes(sandbox)
    assert before.items() <= after.items(), "earlier notes are kept as they were"
    made = [after[n] for n in after.keys() - before.keys()]
    labels = {label.split(' "')[0] for _, label in expected}
    assert labels == {"Tagged", "Tag removed:", "Unenrolled from", "Started the subscription"}
    assert kinds(made) == expected

    # A second run finds nothing new to write.
    run()
    assert notes(sandbox) == after

    # Switched off again: new occurrences of those types make no notes, and none are deleted.
    write_seed(project, set())
    school.attach_tag(tag_user, f"{ADDED_TAG}-2")
    school.remove_tag_by_hand(school.users()[tag_user], ADDED_TAG)
    school.unenroll(next(u for u in enrolled if u != unenrol_user))
    again = school.subscriptions(2 * len(users))  # each learner cancels, then buys again
    assert Counter(s["event"] for s in again) == {"cancelled": len(users), "started": len(users)}
    school.delivered()
    run()
    assert notes(sandbox) == after
