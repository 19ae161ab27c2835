"""The event catalog (dbt_project/seeds/event_types.csv): one row per LMS activity-event type.

Learner account events (in_learning_events false: signing up, a first purchase, tags,
unenrolments, subscriptions) are built in int_learner_account_events and read only by the
activity mart, and they ship with every switch off. So the catalog's new rows must change no
mart at all until a switch is turned on: the hand-made dataset, plus one webhook of each
account type and a history row of one, is built three times and compared:

- `default`: the project as it is;
- `before`: the seed without its account event rows (the catalog as it was before them);
- `feed_on`: every account type's in_activity_feed switched on.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from extract.dataset_source import land_dataset
from flows.dbt_step import SKIP_UNIT_TESTS
from lmsbridge_core.dbt_invocation import PROJECT_DIR, DbtInvocation
from tests.dbt.dbt_runner import copy_project
from tests.dbt.tiny_dataset import AS_OF, unix, write_tiny_dataset

SEED = PROJECT_DIR / "seeds" / "event_types.csv"
ACCOUNT_MODEL = PROJECT_DIR / "models" / "intermediate" / "int_learner_account_events.sql"
LEARNING_MODEL = PROJECT_DIR / "models" / "intermediate" / "int_learning_events_unioned.sql"
COLUMNS = [
    "event_type",
    "is_touch",
    "touch_weight",
    "in_activity_feed",
    "activity_note_label",
    "nudges_sales",
    "learnworlds_webhook_type",
    "occurrence",
    "in_learning_events",
    "hubspot_engagement_type",
]
# the model that is new with the account events: empty in `before`, compared on its own
NEW_MODELS = {"int_learner_account_events"}


def _seed_rows(text: str | None = None) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text or SEED.read_text(encoding="utf-8"))))


def _seed_text(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # what dbt.hash is on DuckDB


def _is_true(value: str) -> bool:
    return value.strip().lower() == "true"


def _is_crm(row: dict[str, str]) -> bool:
    """A CRM touch row (HubSpot engagements), not an LMS event: int_deal_touchpoints only."""
    return bool(row["hubspot_engagement_type"].strip())


# One webhook per account type, in LearnWorlds' documented shapes (reference section 4).
ACCOUNT_WEBHOOKS = [
    {
        "type": "userTagAdded",
        "trigger": "user_tag_added",
        "data": {"id": "u01", "email": "alice@acme.com", "tag": "vip"},
    },
    {
        "type": "userTagDeleted",
        "trigger": "user_tag_deleted",
        "data": {"id": "u02", "email": "bob@beta.io", "tag": "trial"},
    },
    {
        "type": "userUnenrolledFromProduct",
        "trigger": "unenrolled_from_product",
        "data": {
            "user": {"id": "u01", "email": "alice@acme.com"},
            "product": {"id": "roi-webinar", "title": "Measuring ROI Webinar", "type": "course"},
        },
    },
    {
        "type": "subscriptionPaymentPlanBought",
        "trigger": "subscription_started",
        "data": {
            "date": int(unix(20)),
            "user": {"user": {"id": "u02", "email": "bob@beta.io"}},
            "payment": {
                "id": "sp1",
                "price": 29.0,
                "created": unix(20),
                "product": {"id": "pro-plan", "type": "subscription"},
            },
        },
    },
    {
        "type": "subscriptionPaymentPlanCanceled",
        "trigger": "subscription_cancelled",
        "data": {
            "date": int(unix(25)),
            "user": {"id": "u02", "email": "bob@beta.io"},
            "product": {"id": "pro-plan", "title": "Pro plan", "type": "subscription"},
        },
    },
]
# a history file may report unenrolments (the extract accepts them); they are no learning event
HISTORY_UNENROLLED = (
    "alice@acme.com,u01,roi-webinar,Measuring ROI Webinar,unenrolled,,2026-05-21T09:00:00Z,"
    "learnworlds,\n"
)


def _write_dataset(out: Path) -> Path:
    dataset = write_tiny_dataset(out)
    with (dataset / "lms" / "webhooks.jsonl").open("a", encoding="utf-8") as bodies:
        for hook in ACCOUNT_WEBHOOKS:
            body = {"version": 2, "school_id": "s1", **hook}
            bodies.write(json.dumps(body) + "\n")
    with (dataset / "history" / "lms_history.csv").open("a", encoding="utf-8") as history:
        history.write(HISTORY_UNENROLLED)
    return dataset


def _snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Every intermediate and mart relation's rows, sorted: {schema.name: rows}."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('intermediate', 'marts') order by all"
        ).fetchall()
        return {
            f"{schema}.{name}": sorted(
                con.execute(f'select * from "{schema}"."{name}"').fetchall(), key=repr
            )
            for schema, name in names
        }


def _build(root: Path, landed: Path, name: str, seed: str | None) -> dict[str, list[tuple]]:
    work = root / name
    work.mkdir()
    project = PROJECT_DIR
    if seed is not None:
        project = copy_project(work)
        (project / "seeds" / "event_types.csv").write_text(seed, encoding="utf-8")
    # same file name: DuckDB views keep the catalog name (the file's stem) in their SQL
    warehouse = work / "lmsbridge.duckdb"
    shutil.copyfile(landed, warehouse)
    build = DbtInvocation(warehouse, work, AS_OF, project_dir=project).run(
        # the unit tests read fixed inputs: the shared tiny build runs them
        ["build", *SKIP_UNIT_TESTS]
    )
    assert build.returncode == 0, build.output[-4000:]
    return _snapshot(warehouse)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[tuple]]]:
    root = tmp_path_factory.mktemp("event_catalog")
    dataset = _write_dataset(root / "dataset")
    landed = root / "landed" / "lmsbridge.duckdb"
    landed.parent.mkdir()
    land_dataset(dataset, landed, as_of=datetime.fromisoformat(AS_OF))
    rows = _seed_rows()
    before = [row for row in rows if _is_true(row["in_learning_events"]) or _is_crm(row)]
    feed_on = [
        row
        if _is_true(row["in_learning_events"]) or _is_crm(row)
        else {**row, "in_activity_feed": "true"}
        for row in rows
    ]
    return {
        "default": _build(root, landed, "default", None),
        "before": _build(root, landed, "before", _seed_text(before)),
        "feed_on": _build(root, landed, "feed_on", _seed_text(feed_on)),
    }


def _changed(a: dict[str, list[tuple]], b: dict[str, list[tuple]]) -> list[str]:
    assert a.keys() == b.keys()
    return sorted(name for name in a if name.split(".")[1] not in NEW_MODELS and a[name] != b[name])


# --- the seed itself -------------------------------------------------------------------------


def test_seed_declares_every_catalog_column_and_kind():
    rows = _seed_rows()
    assert list(rows[0]) == COLUMNS
    assert {row["occurrence"] for row in rows} <= {"once_per_learner", "repeatable"}
    kinds = {row["event_type"]: (row["occurrence"], row["in_learning_events"]) for row in rows}
    once = {t for t, (occurrence, _) in kinds.items() if occurrence == "once_per_learner"}
    assert once == {"signed_up", "first_purchase", "user_deleted"}
    crm = {row["event_type"]: row["hubspot_engagement_type"] for row in rows if _is_crm(row)}
    assert crm == {"crm_call": "calls", "crm_email": "emails", "crm_meeting": "meetings"}
    account = {t for t, (_, learning) in kinds.items() if not _is_true(learning) and t not in crm}
    assert account == {
        "signed_up",
        "first_purchase",
        "user_deleted",
        "tag_added",
        "tag_removed",
        "unenrolled",
        "subscription_started",
        "subscription_cancelled",
    }


def test_account_types_ship_switched_off_with_a_note_label():
    for row in _seed_rows():
        if _is_true(row["in_learning_events"]) or _is_crm(row):
            continue
        assert not _is_true(row["is_touch"]), row
        assert not _is_true(row["in_activity_feed"]), row
        assert not _is_true(row["nudges_sales"]), row
        assert row["activity_note_label"].strip(), row


def test_each_webhook_type_is_read_by_the_model_its_kind_goes_to():
    """Where a payload keeps its learner, course and time is per webhook type, in SQL."""
    account_sql = ACCOUNT_MODEL.read_text(encoding="utf-8")
    learning_sql = LEARNING_MODEL.read_text(encoding="utf-8")
    for row in _seed_rows():
        hook = row["learnworlds_webhook_type"]
        if not hook:
            continue
        sql = learning_sql if _is_true(row["in_learning_events"]) else account_sql
        assert f"'{hook}'" in sql, (row["event_type"], hook)


def test_every_account_type_is_produced_or_says_why_not():
    account_sql = ACCOUNT_MODEL.read_text(encoding="utf-8")
    for row in _seed_rows():
        if not _is_true(row["in_learning_events"]) and not _is_crm(row):
            assert row["event_type"] in account_sql or row["learnworlds_webhook_type"], row


def test_crm_touch_rows_are_touches_and_nothing_else():
    """Calls, emails and meetings reach only attribution: never a note, a task or a learning
    event (assert_event_types_are_complete checks the same in the build)."""
    crm = [row for row in _seed_rows() if _is_crm(row)]
    assert crm
    for row in crm:
        assert _is_true(row["is_touch"]) and float(row["touch_weight"]) > 0, row
        assert not _is_true(row["in_learning_events"]), row
        assert not _is_true(row["in_activity_feed"]), row
        assert not _is_true(row["nudges_sales"]), row
        assert not row["learnworlds_webhook_type"], row


# --- the builds ------------------------------------------------------------------------------


def test_default_switches_change_no_mart(builds):
    """The account rows of the catalog, all switched off, leave every intermediate model and
    every mart exactly as the catalog without them builds them."""
    assert _changed(builds["default"], builds["before"]) == []
    assert builds["before"]["intermediate.int_learner_account_events"] == []


def test_account_events_are_built_from_what_lands(builds):
    """Not vacuous: the account events exist, they just reach no mart by default."""
    with_types = builds["default"]["intermediate.int_learner_account_events"]
    # event_id, learner_key, event_type, course_id, subject, occurred_at, source, source_rank
    by_type: dict[str, list[tuple]] = {}
    for row in with_types:
        by_type.setdefault(row[2], []).append(row)
    assert len(by_type["signed_up"]) == 16  # every tiny learner has a created time
    assert len(by_type["first_purchase"]) == len({row[1] for row in by_type["first_purchase"]})
    assert [(r[3], r[4]) for r in by_type["tag_added"]] == [(None, "vip")]
    assert [(r[3], r[4]) for r in by_type["tag_removed"]] == [(None, "trial")]
    assert [(r[3], r[4]) for r in by_type["unenrolled"]] == [
        ("roi-webinar", "Measuring ROI Webinar")
    ]
    assert [(r[3], r[4]) for r in by_type["subscription_started"]] == [("pro-plan", "pro-plan")]
    assert [(r[3], r[4]) for r in by_type["subscription_cancelled"]] == [("pro-plan", "Pro plan")]
    assert "user_deleted" not in by_type  # nothing lands a deletion yet
    learning = builds["default"]["marts.fct_learning_events"]
    assert not [row for row in learning if row[5] == "unenrolled"]


def test_switching_the_feed_on_adds_notes_and_changes_nothing_else(builds):
    default, feed_on = builds["default"], builds["feed_on"]
    changed = _changed(default, feed_on)
    assert changed == ["marts.rev_etl__hubspot_activities"]
    notes = "marts.rev_etl__hubspot_activities"
    old = set(default[notes])
    assert old <= set(feed_on[notes])
    added = [row for row in feed_on[notes] if row not in old]
    # activity_key, hubspot_contact_id, event_type, course_id, hs_timestamp, hs_note_body
    types = {row[2] for row in added}
    assert types == {
        "signed_up",
        "first_purchase",
        "tag_added",
        "tag_removed",
        "unenrolled",
        "subscription_started",
        "subscription_cancelled",
    }
    bodies = {row[2]: row[5] for row in added if row[1] == "101"}
    assert bodies["tag_added"] == 'Tagged "vip" on 2026-06-01 00:00 UTC (LMS)'
    assert (
        bodies["unenrolled"]
        == 'Unenrolled from "Measuring ROI Webinar" on 2026-06-01 00:00 UTC (LMS)'
    )
    assert bodies["signed_up"].startswith("Signed up to the school on ")
    # a once-per-learner note is keyed md5(learner_key|event_type): no time, no source
    account = feed_on["intermediate.int_learner_account_events"]
    for once in ("signed_up", "first_purchase"):
        keys = {row[0] for row in added if row[2] == once}
        expected = {_md5(f"{row[1]}|{once}") for row in account if row[2] == once}
        assert keys and keys <= expected, once
