"""Activity rows as timeline events, against the HubSpot emulator over HTTP: templates made
once, one event per row across reruns and crashes, the private-app 403 reported without
failing the notes, and the developer key never written anywhere."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from lmsbridge_core.errors import AuthenticationError
from lmsbridge_core.settings import Settings
from reverse_etl import run_syncs
from reverse_etl.client import HubSpotClient
from reverse_etl.timeline import SYNC_NAME, Event, send_batch
from sandbox.hubspot.config import SANDBOX_APP_ID, SANDBOX_DEVELOPER_KEY
from tests.reverse_etl.retl_support import BASE, key, list_all, query, write_marts

OAUTH_TOKEN = f"oauth-na1-canary-{uuid.uuid4()}"
PRIVATE_TOKEN = f"pat-na1-canary-{uuid.uuid4()}"
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml"
TEMPLATE_ROUTES = ("/integrators/timeline/v3/{appId}/event-templates",)
EVENT_TYPES = ("completed", "assessment_passed")


class Hub:
    def __init__(self, sandbox: Any, tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.url = sandbox.hubspot_url
        self.warehouse = tmp_path / "warehouse.duckdb"
        contacts = list_all(self.url, OAUTH_TOKEN, "contacts", ["email"])
        self.contacts = [c for c in contacts if c["properties"].get("email")]

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "hubspot_base_url": self.url,
            "hubspot_access_token": OAUTH_TOKEN,
            "hubspot_app_id": SANDBOX_APP_ID,
            "hubspot_developer_api_key": SANDBOX_DEVELOPER_KEY,
            "warehouse_path": self.warehouse,
            "sync_config_path": DEFAULT_CONFIG,
        }
        values.update(overrides)
        return Settings(**values)

    def calls(self) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for r in self.sandbox.calls("hubspot")["routes"]:
            counts[(r["method"], r["route"])] += r["count"]
        return counts

    def reset_calls(self) -> None:
        self.sandbox.control_post("hubspot", "/_sandbox/calls/reset", {})

    def state(self, kind: str) -> list[dict[str, Any]]:
        with httpx.Client(base_url=self.url, timeout=30) as c:
            resp = c.get("/_sandbox/state", params={"object": kind})
            resp.raise_for_status()
            return resp.json()["records"]

    def activities(self, n: int) -> list[dict[str, Any]]:
        rows = [
            {
                "activity_key": key("timeline", i),
                "hubspot_contact_id": self.contacts[i % len(self.contacts)]["id"],
                "event_type": EVENT_TYPES[i % 2],
                "course_id": f"course-{i % 4}",
                "hs_timestamp": BASE + timedelta(hours=i),
                "hs_note_body": f"<p>Activity {i}</p>",
            }
            for i in range(n)
        ]
        write_marts(self.warehouse, {"rev_etl__hubspot_activities": rows})
        return rows


@pytest.fixture
def hub(fresh_sandbox: Any, tmp_path: Path) -> Iterator[Hub]:
    sandbox = fresh_sandbox
    sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000})
    sandbox.control_post("hubspot", "/_sandbox/auth", {"tokens": [OAUTH_TOKEN, PRIVATE_TOKEN]})
    hub = Hub(sandbox, tmp_path)
    hub.reset_calls()
    yield hub
    sandbox.control_post("hubspot", "/_sandbox/auth", {"tokens": None})
    sandbox.control_post("hubspot", "/_sandbox/chaos", {})


def template_calls(calls: Counter[tuple[str, str]]) -> Counter[str]:
    return Counter({m: c for (m, r), c in calls.items() if r.startswith(TEMPLATE_ROUTES)})


def assert_one_event_per_row(hub: Hub, rows: list[dict[str, Any]]) -> None:
    events = hub.state("timeline_events")
    by_id = Counter(e["id"] for e in events)
    assert len(events) == len(rows) and set(by_id) == {r["activity_key"] for r in rows}
    assert max(by_id.values()) == 1
    templates = {t["id"]: t["name"] for t in hub.state("timeline_templates")}
    for event, row in zip(
        sorted(events, key=lambda e: e["id"]),
        sorted(rows, key=lambda r: r["activity_key"]),
        strict=True,
    ):
        assert event["objectId"] == row["hubspot_contact_id"]
        assert event["tokens"]["course_id"] == row["course_id"]
        assert templates[event["eventTemplateId"]] == "LMS " + row["event_type"].replace("_", " ")


def by_name(results: list[Any]) -> dict[str, Any]:
    return {r.name: r for r in results}


def test_templates_once_and_one_event_per_row_across_reruns(hub: Hub) -> None:
    rows = hub.activities(130)
    results = by_name(run_syncs(hub.settings()))
    assert all(r.status == "ok" for r in results.values()), [r.error for r in results.values()]
    timeline = results["timeline_events"]
    assert (timeline.planned, timeline.sent, timeline.succeeded) == (130, 130, 130)
    calls = hub.calls()
    assert template_calls(calls) == Counter({"GET": 1, "POST": 2})
    assert calls[("POST", "/integrators/timeline/v3/events/batch/create")] == 2
    assert calls[("POST", "/integrators/timeline/v3/events")] == 0
    assert timeline.calls == 2 + 3
    assert_one_event_per_row(hub, rows)
    assert {t["name"] for t in hub.state("timeline_templates")} == {
        "LMS completed",
        "LMS assessment passed",
    }
    # The notes are still written, as without timeline events.
    assert len(list_all(hub.url, OAUTH_TOKEN, "notes")) == 130

    hub.reset_calls()
    again = by_name(run_syncs(hub.settings()))
    assert sum(hub.calls().values()) == 0
    assert again["timeline_events"].unchanged == 130 and again["timeline_events"].calls == 0
    assert len(hub.state("timeline_templates")) == 2

    # New rows later: sent once, templates reused from the warehouse (no template call).
    more = hub.activities(140)
    hub.reset_calls()
    third = by_name(run_syncs(hub.settings()))
    assert third["timeline_events"].sent == 10 and not template_calls(hub.calls())
    assert_one_event_per_row(hub, more)


def test_a_crash_after_hubspots_answer_never_makes_a_second_event(hub: Hub) -> None:
    rows = hub.activities(130)
    assert all(r.status == "ok" for r in run_syncs(hub.settings()))
    # As if the process died after HubSpot answered but before our state (and the template
    # ids) were written: forget 70 confirmed events and every template id.
    con = duckdb.connect(str(hub.warehouse))
    con.execute(
        "delete from reverse_etl.sync_state where sync_name = 'timeline_events' and "
        "record_key in (select record_key from reverse_etl.sync_state "
        "where sync_name = 'timeline_events' order by record_key limit 70)"
    )
    con.execute("delete from reverse_etl.timeline_templates")
    con.close()
    hub.reset_calls()
    results = by_name(run_syncs(hub.settings()))
    timeline = results["timeline_events"]
    assert timeline.status == "ok", timeline.error
    # HubSpot's "Event ID already in use" confirms the event: no single resends, no rejects.
    assert (timeline.sent, timeline.succeeded, timeline.rejected) == (70, 70, 0)
    calls = hub.calls()
    assert template_calls(calls) == Counter({"GET": 1})  # found by name, not created again
    assert calls[("POST", "/integrators/timeline/v3/events/batch/create")] == 1
    assert calls[("POST", "/integrators/timeline/v3/events")] == 0
    assert_one_event_per_row(hub, rows)
    [(confirmed,)] = query(
        hub.warehouse,
        "select count(*) from reverse_etl.sync_state where sync_name = 'timeline_events'",
    )
    assert confirmed == 130
    hub.reset_calls()
    run_syncs(hub.settings())
    assert sum(hub.calls().values()) == 0


def test_a_private_app_token_gets_403_reported_and_the_notes_still_sync(hub: Hub) -> None:
    hub.activities(20)
    results = by_name(run_syncs(hub.settings(hubspot_access_token=PRIVATE_TOKEN)))
    assert results["notes"].status == "ok" and results["notes"].succeeded == 20
    timeline = results["timeline_events"]
    assert timeline.status == "error"
    assert "HTTP 403" in (timeline.error or "")
    assert "private-app tokens cannot" in (timeline.error or "")
    assert isinstance(timeline.cause, AuthenticationError)
    assert hub.state("timeline_events") == []
    [(status, error)] = query(
        hub.warehouse,
        "select status, error from reverse_etl.sync_runs where sync_name = 'timeline_events'",
    )
    assert status == "error" and "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN" in error
    assert len(list_all(hub.url, OAUTH_TOKEN, "notes")) == 20


def test_without_the_settings_nothing_changes(hub: Hub) -> None:
    hub.activities(20)
    results = run_syncs(hub.settings(hubspot_app_id=None, hubspot_developer_api_key=None))
    assert "timeline_events" not in {r.name for r in results}
    assert not [r for (_, r) in hub.calls() if r.startswith("/integrators")]
    assert not query(
        hub.warehouse,
        "select * from information_schema.tables where table_name = 'timeline_templates'",
    )


def test_the_developer_key_never_reaches_logs_or_tables(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    hub.activities(10)
    good = run_syncs(hub.settings())
    assert all(r.status == "ok" for r in good), [r.error for r in good]
    # A key HubSpot refuses: a clear error that does not echo it.
    wrong = f"devkey-canary-{uuid.uuid4()}"
    with duckdb.connect(str(hub.warehouse)) as con:
        con.execute("delete from reverse_etl.timeline_templates")
        con.execute("delete from reverse_etl.sync_state where sync_name = 'timeline_events'")
    bad = by_name(run_syncs(hub.settings(hubspot_developer_api_key=wrong)))
    refused = bad["timeline_events"]
    assert refused.status == "error" and "developer API key" in (refused.error or "")
    assert "HTTP 401" in (refused.error or "")
    texts = [caplog.text, repr(good), repr(bad)]
    for table in ("sync_runs", "rejected_rows", "sync_state", "timeline_templates"):
        texts.append(repr(query(hub.warehouse, f"select * from reverse_etl.{table}")))
    blob = "\n".join(texts)
    raw = hub.warehouse.read_bytes()
    for secret in (SANDBOX_DEVELOPER_KEY, wrong):
        assert secret not in blob
        assert secret.encode() not in raw
    assert "canary" not in blob


def test_dry_run_plans_events_and_sends_nothing(hub: Hub) -> None:
    hub.activities(30)
    assert all(r.status == "ok" for r in run_syncs(hub.settings()))
    hub.activities(35)
    hub.reset_calls()
    [timeline] = [r for r in run_syncs(hub.settings(), dry_run=True) if r.name == SYNC_NAME]
    assert (timeline.planned, timeline.unchanged, timeline.sent) == (5, 30, 0)
    assert sum(hub.calls().values()) == 0


def _event(i: int) -> tuple[Event, dict[str, Any]]:
    body = {"id": f"k{i}", "objectId": "1", "tokens": {}}
    return Event(f"k{i}", "completed", body, "h", {}), {**body, "eventTemplateId": "7"}


def test_unattributed_batch_errors_are_settled_one_event_at_a_time() -> None:
    """HubSpot's 207 errors need not name the event: those are sent alone, where a 400
    "Event ID already in use" confirms and any other refusal is a rejection."""
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        sent = json.loads(request.content)
        if request.url.path.endswith("/batch/create"):
            ok = [i for i in sent["inputs"] if i["id"] == "k0"]
            error = {"status": "error", "category": "VALIDATION_ERROR", "message": "bad"}
            return httpx.Response(
                207, json={"status": "COMPLETE", "results": ok, "errors": [error]}
            )
        if sent["id"] == "k1":
            message = "Event ID already in use, please choose a new unique ID"
            return httpx.Response(400, json={"status": "error", "message": message})
        return httpx.Response(404, json={"category": "OBJECT_NOT_FOUND", "message": "no contact"})

    client = HubSpotClient(
        "http://hubspot.invalid", "oauth-unit", transport=httpx.MockTransport(answer)
    )
    with client:
        done = send_batch(client, [_event(0), _event(1), _event(2)])
    assert [e.key for e in done.confirmed] == ["k0", "k1"]
    assert [(e.key, c, m) for e, c, m in done.rejected] == [
        ("k2", "OBJECT_NOT_FOUND", "no contact")
    ]
    assert seen == [
        "/integrators/timeline/v3/events/batch/create",
        "/integrators/timeline/v3/events",
        "/integrators/timeline/v3/events",
    ]
