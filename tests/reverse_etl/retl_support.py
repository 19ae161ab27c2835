"""Helpers for the reverse ETL integration tests: marts in a temp DuckDB that reference
records living in the sandbox HubSpot, and read-back of HubSpot through its public API."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx

CONTACT_COLUMNS = {
    "learner_key": "text",
    "hubspot_contact_id": "text",
    "email": "text",
    "marketing_consent": "boolean",
    "lms_user_id": "text",
    "lms_source": "text",
    "lms_courses_completed_count": "integer",
    "lms_last_course_completed": "text",
    "lms_recent_course_completion_date": "date",
    "lms_engagement_score": "double",
    "lms_certified_products": "text",
    "lms_certified_crm": "boolean",
    "lms_certified_analytics": "boolean",
    "lms_last_activity_at": "timestamptz",
    "lifecyclestage": "text",
    "lms_deleted": "boolean",
    "hubspot_contact_archived": "boolean",
}
DEAL_COLUMNS = {
    "hubspot_deal_id": "text",
    "lms_influenced": "boolean",
    "lms_touch_count": "integer",
    "lms_learners_count": "integer",
    "lms_first_course": "text",
    "lms_last_course": "text",
    "lms_top_course": "text",
    "lms_attributed_amount": "double",
    "lms_attribution_model": "text",
}
TASK_COLUMNS = {
    "task_key": "text",
    "hubspot_contact_id": "text",
    "hubspot_owner_id": "text",
    "course_id": "text",
    "completed_at": "timestamptz",
    "hs_task_subject": "text",
    "hs_task_body": "text",
    "hs_timestamp": "timestamptz",
    "hs_task_status": "text",
    "hs_task_priority": "text",
    "hs_task_type": "text",
    "lms_deleted": "boolean",
}
ACTIVITY_COLUMNS = {
    "activity_key": "text",
    "hubspot_contact_id": "text",
    "event_type": "text",
    "course_id": "text",
    "hs_timestamp": "timestamptz",
    "hs_note_body": "text",
    "lms_deleted": "boolean",
}
# Flags a hand-made row may leave out: no learner deleted, no contact archived.
FLAG_DEFAULTS = {"lms_deleted": False, "hubspot_contact_archived": False}
MARTS = {
    "rev_etl__hubspot_contacts": CONTACT_COLUMNS,
    "rev_etl__hubspot_deals": DEAL_COLUMNS,
    "rev_etl__hubspot_tasks": TASK_COLUMNS,
    "rev_etl__hubspot_activities": ACTIVITY_COLUMNS,
}
BASE = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def seed_models() -> list[dict[str, Any]]:
    """(attribution_model, label) of the attribution_models seed: what dbt publishes as
    marts.dim_attribution_models, the source of lms_attribution_model's options."""
    with (SEEDS / "attribution_models.csv").open(encoding="utf-8", newline="") as handle:
        return [
            {"attribution_model": r["attribution_model"], "label": r["label"]}
            for r in csv.DictReader(handle)
        ]


def list_all(
    base_url: str,
    token: str,
    object_type: str,
    properties: list[str] | None = None,
    associations: str | None = None,
) -> list[dict[str, Any]]:
    """Every live record of a type, through the public list endpoint (paging followed)."""
    params: dict[str, Any] = {"limit": 100}
    if properties:
        params["properties"] = ",".join(properties)
    if associations:
        params["associations"] = associations
    out: list[dict[str, Any]] = []
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as c:
        while True:
            response = c.get(f"/crm/v3/objects/{object_type}", params=params)
            response.raise_for_status()
            body = response.json()
            out += body["results"]
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return out
            params["after"] = after


def contact_rows(contacts: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    rows = []
    for i, c in enumerate(contacts[:n]):
        rows.append(
            {
                "learner_key": f"learner-{i:05d}",
                "hubspot_contact_id": c["id"],
                "email": c["properties"].get("email") or f"x{i}@example.com",
                "marketing_consent": i % 2 == 0,
                "lms_user_id": f"u{i:05d}",
                "lms_source": "learnworlds",
                "lms_courses_completed_count": i % 5,
                "lms_last_course_completed": f"Course {i % 7}",
                "lms_recent_course_completion_date": date(2026, 1, 1) + timedelta(days=i % 30),
                "lms_engagement_score": round(i * 1.25, 2),
                "lms_certified_products": "crm" if i % 3 == 0 else None,
                "lms_certified_crm": i % 3 == 0,
                "lms_certified_analytics": False,
                "lms_last_activity_at": BASE + timedelta(minutes=i),
                "lifecyclestage": None,
            }
        )
    return rows


def deal_rows(deals: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    models = ["linear", "first_touch", "u_shaped"]
    return [
        {
            "hubspot_deal_id": d["id"],
            "lms_influenced": True,
            "lms_touch_count": i + 1,
            "lms_learners_count": 1 + i % 3,
            "lms_first_course": "intro",
            "lms_last_course": "advanced",
            "lms_top_course": "intro",
            "lms_attributed_amount": 100.5 + i,
            "lms_attribution_model": models[i % 3],
        }
        for i, d in enumerate(deals[:n])
    ]


def key(*parts: object) -> str:
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()


def task_rows(contacts: list[dict[str, Any]], owner_id: str, n: int) -> list[dict[str, Any]]:
    return [
        {
            "task_key": key(c["id"], "course-x"),
            "hubspot_contact_id": c["id"],
            "hubspot_owner_id": owner_id,
            "course_id": "course-x",
            "completed_at": BASE - timedelta(minutes=i),
            "hs_task_subject": f"Follow up: completed course-x ({i})",
            "hs_task_body": "Completed a product course.",
            "hs_timestamp": BASE + timedelta(days=1),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": "HIGH",
            "hs_task_type": "TODO",
        }
        for i, c in enumerate(contacts[:n])
    ]


def activity_rows(contacts: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    return [
        {
            "activity_key": key("event", i),
            "hubspot_contact_id": contacts[i % len(contacts)]["id"],
            "event_type": "completed",
            "course_id": f"course-{i % 4}",
            "hs_timestamp": BASE + timedelta(hours=i),
            "hs_note_body": f"Completed course-{i % 4}",
        }
        for i in range(n)
    ]


def uncapped_config(directory: Path) -> Path:
    """The default syncs.yml without the tasks per-owner cap, for tests that create more
    tasks for one owner than one run may (the cap has its own tests)."""
    text = (Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml").read_text()
    capped = "max_per_run: 25,"
    assert capped in text, "the tasks cap in syncs.yml changed: update uncapped_config"
    path = directory / "syncs_uncapped.yml"
    path.write_text(text.replace(capped, "max_per_run: null,"))
    return path


def write_models(con: duckdb.DuckDBPyConnection, models: list[dict[str, Any]]) -> None:
    """(Re)create marts.dim_attribution_models with just the columns the sync reads."""
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.dim_attribution_models (attribution_model text, label text)"
    )
    con.executemany(
        "insert into marts.dim_attribution_models values (?, ?)",
        [[m["attribution_model"], m["label"]] for m in models],
    )


def write_marts(path: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    """(Re)create the four contract marts (tables not given are created empty) and the
    attribution models the deals sync reads its options from (the seed's, unless given as
    `dim_attribution_models`)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create schema if not exists marts")
        write_models(con, tables.get("dim_attribution_models") or seed_models())
        for name, columns in MARTS.items():
            cols = ", ".join(f"{c} {t}" for c, t in columns.items())
            con.execute(f"create or replace table marts.{name} ({cols})")
            rows = tables.get(name, [])
            if rows:
                # One JSON file per table: DuckDB binds row-by-row parameters slowly.
                source = path.with_name(f"{name}.json")
                source.write_text(
                    json.dumps(
                        [
                            {
                                c: r.get(c, FLAG_DEFAULTS.get(c)) if c in FLAG_DEFAULTS else r[c]
                                for c in columns
                            }
                            for r in rows
                        ],
                        default=str,
                    )
                )
                spec = ", ".join(f"'{c}': '{t}'" for c, t in columns.items())
                con.execute(
                    f"insert into marts.{name} select * from read_json('{source}', "
                    f"format = 'array', columns = {{{spec}}})"
                )
                source.unlink()
    finally:
        con.close()


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def confirm_all(rows: list[dict[str, Any]], sync: Any) -> dict[str, Any]:
    """The sync_state HubSpot would hold after confirming every row of a first plan."""
    from reverse_etl.plan import ConfirmedState, build_plan

    plan = build_plan(sync, rows, {})
    return {
        key: ConfirmedState(w.target, w.hashes[key], w.confirmed[key])
        for w in plan.writes
        for key in w.record_keys
    }
