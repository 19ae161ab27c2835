"""The real sync against the real HubSpot emulator: counts of calls and rows, not timings."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lmsbridge_core.errors import QuotaExhaustedError
from lmsbridge_core.settings import Settings
from reverse_etl import run_syncs
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

TOKEN = f"pat-na1-canary-{uuid.uuid4()}"
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml"


def routes(snapshot: dict[str, Any]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for r in snapshot["routes"]:
        counts[(r["method"], r["route"])] += r["count"]
    return counts


class Hub:
    """The sandbox HubSpot plus the marts and settings one test works with."""

    def __init__(self, sandbox: Any, tmp_path: Path) -> None:
        self.sandbox = sandbox
        self.url = sandbox.hubspot_url
        self.warehouse = tmp_path / "warehouse.duckdb"
        self.config = DEFAULT_CONFIG
        self.token = TOKEN
        self.contacts = list_all(self.url, TOKEN, "contacts", ["email"])
        self.deals = list_all(self.url, TOKEN, "deals")
        with httpx.Client(base_url=self.url, headers=self.auth) as c:
            owners = c.get("/crm/v3/owners").json()["results"]
        self.owner_id = owners[0]["id"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "hubspot_base_url": self.url,
            "hubspot_access_token": self.token,
            "warehouse_path": self.warehouse,
            "sync_config_path": self.config,
        }
        values.update(overrides)
        return Settings(**values)

    def calls(self) -> dict[str, Any]:
        return self.sandbox.calls("hubspot")

    def reset_calls(self) -> None:
        self.sandbox.control_post("hubspot", "/_sandbox/calls/reset", {})

    def api(self, method: str, path: str, json: Any = None) -> httpx.Response:
        with httpx.Client(base_url=self.url, headers=self.auth, timeout=30) as c:
            return c.request(method, path, json=json)


@pytest.fixture
def hub(fresh_sandbox: Any, tmp_path: Path) -> Iterator[Hub]:
    sandbox = fresh_sandbox
    # The rate limit is not under test here (bench/ measures it): keep the suite fast.
    sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000})
    sandbox.control_post("hubspot", "/_sandbox/auth", {"tokens": [TOKEN]})
    hub = Hub(sandbox, tmp_path)
    hub.reset_calls()
    yield hub
    sandbox.control_post("hubspot", "/_sandbox/auth", {"tokens": None})
    sandbox.control_post("hubspot", "/_sandbox/chaos", {})


def standard_marts(
    hub: Hub, n_contacts: int = 150, n_tasks: int = 120, n_notes: int = 130
) -> dict[str, list[dict[str, Any]]]:
    with_email = [c for c in hub.contacts if c["properties"].get("email")]
    tables = {
        "rev_etl__hubspot_contacts": contact_rows(with_email, n_contacts),
        "rev_etl__hubspot_deals": deal_rows(hub.deals, 30),
        "rev_etl__hubspot_tasks": task_rows(with_email, hub.owner_id, n_tasks),
        "rev_etl__hubspot_activities": activity_rows(with_email, n_notes),
    }
    write_marts(hub.warehouse, tables)
    return tables


def batches(n: int) -> int:
    return math.ceil(n / 100)


def test_first_run_writes_ceil_n_over_100_per_kind_and_rerun_writes_nothing(
    hub: Hub, tmp_path: Path
) -> None:
    hub.config = uncapped_config(tmp_path)  # 120 tasks for one owner, all in one run
    tables = standard_marts(hub)
    n = {name: len(rows) for name, rows in tables.items()}
    results = {r.name: r for r in run_syncs(hub.settings())}
    assert all(r.status == "ok" for r in results.values()), [r.error for r in results.values()]

    expected_writes = {
        "contacts": batches(n["rev_etl__hubspot_contacts"]),
        "deals": batches(n["rev_etl__hubspot_deals"]),
        # upsert by the unique key, then one v4 association batch per upsert batch
        "tasks": 2 * batches(n["rev_etl__hubspot_tasks"]),
        "notes": 2 * batches(n["rev_etl__hubspot_activities"]),
    }
    for name, writes in expected_writes.items():
        assert results[name].calls - results[name].setup_calls == writes, name
        assert results[name].setup_calls > 0, name
    seen = routes(hub.calls())
    # The two-way field sync (field_mappings) updates contacts in its own batches.
    field_batches = results["fields_to_hubspot"].calls if "fields_to_hubspot" in results else 0
    assert (
        seen[("POST", "/crm/v3/objects/{object_type}/batch/update")]
        == expected_writes["contacts"] + expected_writes["deals"] + field_batches
    )
    assert (
        seen[("POST", "/crm/v3/objects/{object_type}/batch/upsert")]
        == (expected_writes["tasks"] + expected_writes["notes"]) // 2
    )
    setup = sum(c for (m, r), c in seen.items() if r.startswith("/crm/v3/properties"))
    assert setup == sum(r.setup_calls for r in results.values())
    assert hub.calls()["status_429"] == 0

    # HubSpot now holds what the marts say.
    contacts = {
        c["id"]: c
        for c in list_all(
            hub.url,
            TOKEN,
            "contacts",
            ["lms_engagement_score", "lms_recent_course_completion_date"],
        )
    }
    for row in tables["rev_etl__hubspot_contacts"]:
        props = contacts[row["hubspot_contact_id"]]["properties"]
        assert float(props["lms_engagement_score"]) == row["lms_engagement_score"]
        assert (
            props["lms_recent_course_completion_date"]
            == row["lms_recent_course_completion_date"].isoformat()
        )
    tasks = list_all(
        hub.url, TOKEN, "tasks", ["lms_task_key", "hubspot_owner_id"], associations="contacts"
    )
    by_key = {t["properties"]["lms_task_key"]: t for t in tasks}
    assert len(by_key) == len(tasks) == n["rev_etl__hubspot_tasks"]
    for row in tables["rev_etl__hubspot_tasks"]:
        task = by_key[row["task_key"]]
        assert task["properties"]["hubspot_owner_id"] == hub.owner_id
        linked = {a["id"] for a in task["associations"]["contacts"]["results"]}
        assert linked == {row["hubspot_contact_id"]}
    notes = list_all(hub.url, TOKEN, "notes", ["lms_activity_key"])
    assert len(notes) == n["rev_etl__hubspot_activities"]

    hub.reset_calls()
    again = run_syncs(hub.settings())
    assert hub.calls()["total"] == 0
    assert all(r.calls == 0 and r.sent == 0 for r in again)
    assert sum(r.unchanged for r in again) == sum(n.values())

    # One changed mart row: exactly one record sent, in one call.
    rows = tables["rev_etl__hubspot_contacts"]
    rows[7]["lms_engagement_score"] = 999.5
    write_marts(hub.warehouse, tables)
    hub.reset_calls()
    third = {r.name: r for r in run_syncs(hub.settings())}
    snapshot = hub.calls()
    assert (snapshot["write_calls"], snapshot["records_written"], snapshot["total"]) == (1, 1, 1)
    assert third["contacts"].sent == third["contacts"].succeeded == 1
    [(runs,)] = query(
        hub.warehouse,
        "select count(*) from reverse_etl.sync_runs "
        "where sync_name in ('contacts', 'deals', 'tasks', 'notes')",
    )
    assert runs == 12


def test_invalid_values_land_every_valid_row_and_record_each_rejection(
    hub: Hub, tmp_path: Path
) -> None:
    hub.config = tmp_path / "syncs.yml"
    hub.config.write_text(
        DEFAULT_CONFIG.read_text()
        .replace(
            "      lms_top_course: {property: lms_top_course, type: string, field_type: text, label: LMS top course}",
            "      lms_top_course: {property: lms_top_course, type: string, field_type: text, label: LMS top course}\n"
            "      lms_first_course: {property: lms_first_course_tier, type: enumeration, field_type: select, hubspot_defined: true}\n"
            "      lms_last_course: {property: lms_review_date, type: date, field_type: date}",
        )
        .replace(
            "      lms_first_course: {property: lms_first_course, type: string, field_type: text, label: LMS first course}\n"
            "      lms_last_course: {property: lms_last_course, type: string, field_type: text, label: LMS last course}\n",
            "",
        )
    )
    # The tier property exists with options HubSpot enforces; the config declares none (it
    # is someone else's property, hence hubspot_defined: checked, never created), so only
    # HubSpot can reject a bad option (a 207 item, not a failed batch).
    created = hub.api(
        "POST",
        "/crm/v3/properties/deals",
        {
            "name": "lms_first_course_tier",
            "label": "Tier",
            "type": "enumeration",
            "fieldType": "select",
            "groupName": "dealinformation",
            "options": [
                {"label": "Intro", "value": "intro", "displayOrder": 0, "hidden": False},
                {"label": "Pro", "value": "pro", "displayOrder": 1, "hidden": False},
            ],
        },
    )
    assert created.status_code == 201, created.text
    deals = deal_rows(hub.deals, 12)
    for d in deals:
        d["lms_last_course"] = "2026-02-01"
    write_marts(hub.warehouse, {"rev_etl__hubspot_deals": deals})
    [first] = run_syncs(hub.settings(), only="deals")
    assert (first.status, first.succeeded, first.rejected) == ("ok", 12, 0)

    # Someone deletes a property after setup: only HubSpot can tell us.
    assert (
        hub.api(
            "POST",
            "/crm/v3/properties/deals/batch/archive",
            {"inputs": [{"name": "lms_top_course"}]},
        ).status_code
        == 204
    )
    for d in deals:
        d["lms_touch_count"] += 10
    deals[1]["lms_first_course"] = "expert"  # not an option
    deals[2]["lms_last_course"] = "2026-02-30"  # no such date
    deals[3]["lms_attribution_model"] = "Linear"  # the label, not the value
    deals[4]["lms_top_course"] = "renamed"  # property no longer exists
    write_marts(hub.warehouse, {"rev_etl__hubspot_deals": deals})
    hub.reset_calls()
    [second] = run_syncs(hub.settings(), only="deals")
    assert (second.succeeded, second.rejected) == (8, 4)
    rejected = {
        k: (c, m)
        for _, k, c, m in query(
            hub.warehouse,
            "select sync_run_id, record_key, category, message from reverse_etl.rejected_rows "
            f"where sync_run_id = '{second.run_id}'",
        )
    }
    ids = [d["hubspot_deal_id"] for d in deals]
    assert set(rejected) == {ids[1], ids[2], ids[3], ids[4]}
    assert "expert" in rejected[ids[1]][1]
    assert rejected[ids[2]][0] == "INVALID_DATE" and "lms_review_date" in rejected[ids[2]][1]
    assert rejected[ids[3]][0] == "INVALID_OPTION"
    assert "lms_top_course" in rejected[ids[4]][1]
    # Only the two HubSpot rejected were sent; the locally invalid ones cost no call.
    assert second.sent == 10
    held = {
        d["id"]: d["properties"] for d in list_all(hub.url, TOKEN, "deals", ["lms_touch_count"])
    }
    for i, d in enumerate(deals):
        landed = float(held[d["hubspot_deal_id"]]["lms_touch_count"]) == d["lms_touch_count"]
        assert landed == (i not in (1, 2, 3, 4))
    # The deleted property is archived: setup is verified again and says how to fix it.
    [third] = run_syncs(hub.settings(), only="deals")
    assert third.status == "error" and third.sent == 0
    assert "'lms_top_course' is archived" in (third.error or "")
    # Following the fix (unmap it), rejected rows are retried: not confirmed before.
    hub.config.write_text(
        hub.config.read_text().replace(
            "      lms_top_course: {property: lms_top_course, type: string, field_type: text, label: LMS top course}\n",
            "",
        )
    )
    [fourth] = run_syncs(hub.settings(), only="deals")
    assert (fourth.status, fourth.sent, fourth.succeeded) == ("ok", 2, 1)
    assert fourth.rejected == 3  # expert again, plus the two still invalid locally
    held = {
        d["id"]: d["properties"] for d in list_all(hub.url, TOKEN, "deals", ["lms_touch_count"])
    }
    assert float(held[ids[4]]["lms_touch_count"]) == deals[4]["lms_touch_count"]


def test_type_mismatch_stops_the_sync_before_any_write(hub: Hub) -> None:
    created = hub.api(
        "POST",
        "/crm/v3/properties/deals",
        {
            "name": "lms_touch_count",
            "label": "Touches",
            "type": "string",
            "fieldType": "text",
            "groupName": "dealinformation",
        },
    )
    assert created.status_code == 201, created.text
    standard_marts(hub)
    hub.reset_calls()
    results = {r.name: r for r in run_syncs(hub.settings(), only=["deals"])}
    deals = results["deals"]
    assert deals.status == "error"
    assert deals.error is not None
    for fragment in ("lms_touch_count", "type=string", "type=number", "Fix"):
        assert fragment in deals.error
    seen = routes(hub.calls())
    assert hub.calls()["write_calls"] == 0
    assert all(m == "GET" for (m, _), c in seen.items() if c)
    assert query(hub.warehouse, "select count(*) from reverse_etl.sync_state") == [(0,)]
    [(status, error)] = query(hub.warehouse, "select status, error from reverse_etl.sync_runs")
    assert status == "error" and "lms_touch_count" in error


def test_canary_token_never_leaks(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    standard_marts(hub, n_contacts=20, n_tasks=5, n_notes=5)
    good = run_syncs(hub.settings())
    assert all(r.status == "ok" for r in good)
    # A token HubSpot refuses: the error must be clear and still not echo the token.
    wrong = f"pat-na1-canary-{uuid.uuid4()}"
    bad = run_syncs(hub.settings(hubspot_access_token=wrong), full=True)
    assert all(r.status == "error" and "401" in (r.error or "") for r in bad)
    texts = [caplog.text, repr(good), repr(bad)]
    for table in ("sync_runs", "rejected_rows", "sync_state", "schema_cache"):
        texts.append(repr(query(hub.warehouse, f"select * from reverse_etl.{table}")))
    blob = "\n".join(texts)
    raw = hub.warehouse.read_bytes()
    for token in (TOKEN, wrong):
        assert token not in blob
        assert token.encode() not in raw
    assert "canary" not in blob


def test_dry_run_returns_the_plan_and_writes_nothing(hub: Hub) -> None:
    tables = standard_marts(hub, n_contacts=40, n_tasks=10, n_notes=10)
    results = {r.name: r for r in run_syncs(hub.settings(), dry_run=True)}
    assert hub.calls()["write_calls"] == 0
    # Nothing in the warehouse either: not even the reverse_etl schema.
    assert query(
        hub.warehouse,
        "select count(*) from information_schema.schemata where schema_name = 'reverse_etl'",
    ) == [(0,)]
    contacts = results["contacts"]
    assert contacts.plan is not None
    summary = contacts.plan.summary()
    assert summary["updates"] == len(tables["rev_etl__hubspot_contacts"]) == contacts.planned
    assert summary["write_batches"]["update"] == 1
    assert any("create property lms_engagement_score" in s for s in summary["setup"])
    assert results["tasks"].plan is not None and len(results["tasks"].plan.creates) == 10
    # The same plan is what apply then executes.
    applied = {r.name: r for r in run_syncs(hub.settings())}
    assert {n: r.sent for n, r in applied.items()} == {n: r.planned for n, r in results.items()}


def test_unmatched_learners_are_created_by_email_once_and_only_with_consent(
    hub: Hub, tmp_path: Path
) -> None:
    hub.config = tmp_path / "syncs.yml"
    hub.config.write_text(
        DEFAULT_CONFIG.read_text().replace(
            "create_missing_contacts: false", "create_missing_contacts: true"
        )
    )
    before = len(list_all(hub.url, TOKEN, "contacts"))
    rows = contact_rows(hub.contacts, 3)
    existing_email = rows[0]["email"]
    extra = [
        {
            **rows[1],
            "learner_key": "new-1",
            "hubspot_contact_id": None,
            "email": "New.Learner@Example.com",
            "marketing_consent": True,
        },
        {
            **rows[1],
            "learner_key": "new-2",
            "hubspot_contact_id": None,
            "email": " new.learner@example.com",
            "marketing_consent": True,
        },
        {
            **rows[1],
            "learner_key": "new-3",
            "hubspot_contact_id": None,
            "email": "other.learner@example.com",
            "marketing_consent": True,
        },
        {
            **rows[1],
            "learner_key": "no-consent",
            "hubspot_contact_id": None,
            "email": "private@example.com",
            "marketing_consent": False,
        },
        # Matched by email only in HubSpot, never updated by email when the mart has no id.
        {
            **rows[1],
            "learner_key": "unmatched-existing",
            "hubspot_contact_id": None,
            "email": existing_email,
            "marketing_consent": False,
        },
    ]
    write_marts(hub.warehouse, {"rev_etl__hubspot_contacts": rows + extra})
    [first] = run_syncs(hub.settings(), only="contacts")
    assert first.status == "ok", first.error
    assert (first.succeeded, first.skipped) == (3 + 3, 2)
    after = {
        c["properties"]["email"]: c
        for c in list_all(hub.url, TOKEN, "contacts", ["email", "lms_user_id"])
    }
    assert len(after) == before + 2
    assert "new.learner@example.com" in after and "private@example.com" not in after
    hub.reset_calls()
    [again] = run_syncs(hub.settings(), only="contacts")
    assert hub.calls()["total"] == 0 and again.unchanged == 6


def test_burst_429s_and_server_errors_are_retried_and_counted(hub: Hub) -> None:
    standard_marts(hub, n_contacts=30, n_tasks=0, n_notes=0)
    hub.sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000, "burst_429": 2})
    [contacts] = run_syncs(hub.settings(), only="contacts")
    assert (contacts.status, contacts.succeeded, contacts.status_429) == ("ok", 30, 2)
    hub.sandbox.control_post(
        "hubspot", "/_sandbox/chaos", {"rate_max": 100_000, "error_rate": 0.3, "seed": 3}
    )
    tables = standard_marts(hub, n_contacts=30, n_tasks=0, n_notes=0)
    for row in tables["rev_etl__hubspot_contacts"]:
        row["lms_courses_completed_count"] += 1
    write_marts(hub.warehouse, tables)
    [again] = run_syncs(hub.settings(), only="contacts")
    assert (again.status, again.succeeded) == ("ok", 30)
    [(n429,)] = query(
        hub.warehouse,
        f"select status_429 from reverse_etl.sync_runs where run_id = '{contacts.run_id}'",
    )
    assert n429 == 2


def test_a_429_storm_with_20pct_5xx_slows_every_sync_and_loses_nothing(hub: Hub) -> None:
    tables = standard_marts(hub, n_contacts=40, n_tasks=10, n_notes=10)
    hub.sandbox.control_post(
        "hubspot",
        "/_sandbox/chaos",
        # Five in a row: the holds grow 1, 2, 4, 8 s to the whole 10 s window (`make chaos`: 8).
        {"rate_max": 100_000, "burst_429": 5, "error_rate": 0.2, "seed": 11},
    )
    results = run_syncs(hub.settings())
    assert all(r.status == "ok" for r in results), [r.error for r in results]
    assert sum(r.status_429 for r in results) == 5
    assert sum(r.rejected for r in results) == 0
    tasks = list_all(hub.url, TOKEN, "tasks", ["lms_task_key"])
    assert len(tasks) == len(tables["rev_etl__hubspot_tasks"])  # retried upserts, no duplicates
    hub.sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000})
    hub.reset_calls()
    assert all(r.sent == 0 for r in run_syncs(hub.settings()))  # state is complete


def test_daily_usage_is_read_once_per_run_that_writes(hub: Hub) -> None:
    standard_marts(hub, n_contacts=150, n_tasks=0, n_notes=0)
    run_syncs(hub.settings())
    usage = routes(hub.calls())[("GET", "/account-info/v3/api-usage/daily/private-apps")]
    assert usage == 1
    body = hub.api("GET", "/account-info/v3/api-usage/daily/private-apps").json()
    [daily] = body["results"]
    assert daily["name"] == "private-apps-api-calls-daily"
    assert 0 < daily["currentUsage"] < daily["usageLimit"]


def test_daily_limit_stops_the_whole_run_with_a_clear_message(hub: Hub) -> None:
    standard_marts(hub, n_contacts=30, n_tasks=5, n_notes=5)
    hub.sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000, "daily_limit": 1})
    hub.reset_calls()
    results = run_syncs(hub.settings())
    assert [r.status for r in results] == ["error"] * 4
    assert "daily API limit" in (results[0].error or "")
    assert all(isinstance(r.cause, QuotaExhaustedError) for r in results)
    # One refused call, then no retries and no further syncs.
    assert hub.calls()["total"] == 1 and sum(r.calls for r in results) == 1


def test_pacing_from_rate_limit_headers_avoids_429s(hub: Hub) -> None:
    standard_marts(hub)
    # A tight window (10 calls / s) that the client only learns from the response headers.
    hub.sandbox.control_post(
        "hubspot", "/_sandbox/chaos", {"rate_max": 10, "rate_interval_ms": 1000}
    )
    hub.reset_calls()
    results = run_syncs(hub.settings())
    assert all(r.status == "ok" for r in results), [r.error for r in results]
    snapshot = hub.calls()
    assert snapshot["total"] > 20  # enough calls to cross several windows
    assert snapshot["status_429"] == 0
