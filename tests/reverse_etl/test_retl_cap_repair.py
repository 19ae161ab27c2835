"""The per-owner task cap and the `--repair` drift diff, as pure functions (no servers)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lmsbridge_core.errors import ConfigurationError
from reverse_etl.config import Sync, SyncConfigError, WriteCap, load_config, parse_config
from reverse_etl.plan import ConfirmedState, build_plan
from reverse_etl.repair import drifted_update, missing_records, same_value, scan, update_drift
from tests.reverse_etl.retl_support import confirm_all

SYNCS = Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml"
CONFIG = load_config(SYNCS)
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def sync(name: str, **changes: Any) -> Sync:
    found = next(s for s in CONFIG.syncs if s.name == name)
    return found.model_copy(update=changes) if changes else found


def task(i: int, owner: str | None, age_days: float = 0) -> dict[str, Any]:
    return {
        "task_key": f"t{i:03d}",
        "hubspot_contact_id": str(1000 + i),
        "hubspot_owner_id": owner,
        "course_id": "c1",
        "completed_at": NOW - timedelta(days=age_days),
        "hs_task_subject": f"Follow up {i}",
        "hs_task_body": "Completed c1.",
        "hs_timestamp": NOW + timedelta(days=1),
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH",
        "hs_task_type": "TODO",
    }


def contact(key: str, contact_id: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "learner_key": key,
        "hubspot_contact_id": contact_id,
        "email": f"{key}@example.com",
        "marketing_consent": True,
        "lms_user_id": key,
        "lms_source": "learnworlds",
        "lms_courses_completed_count": 2,
        "lms_last_course_completed": "Intro",
        "lms_recent_course_completion_date": date(2026, 5, 1),
        "lms_engagement_score": 12.5,
        "lms_certified_products": None,
        "lms_last_activity_at": datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
        "lifecyclestage": "lead",
    }
    row.update(values)
    return row


# --- the cap -------------------------------------------------------------------------------


def test_the_default_config_caps_tasks_at_25_per_owner_newest_first() -> None:
    assert sync("tasks").cap == WriteCap(
        column="hubspot_owner_id", max_per_run=25, newest_first_by="completed_at"
    )


def test_rows_over_the_cap_are_deferred_newest_kept_and_counted_per_owner() -> None:
    # owner A: 30 tasks (i days old), owner B: 3, no owner: 2
    rows = [task(i, "A", age_days=i) for i in range(30)]
    rows += [task(100 + i, "B") for i in range(3)] + [task(200 + i, None) for i in range(2)]
    plan = build_plan(sync("tasks"), rows, {})
    assert plan.by_owner == {"A": 25, "B": 3, "none": 2}
    assert plan.planned == 30 and len(plan.creates) == 30
    # the 5 oldest completions of owner A wait; nothing is rejected or skipped
    assert sorted(plan.deferred) == [f"t{i:03d}" for i in range(25, 30)]
    assert plan.invalid == [] and plan.skipped == []
    assert plan.summary()["deferred"] == 5 and plan.summary()["by_owner"]["A"] == 25
    assert plan.cap_line() == (
        "tasks: 30 to create for 3 owners (owner A: 25, owner B: 3, owner none: 2; "
        "5 deferred by the per-owner cap of 25)"
    )


def test_deferred_rows_are_planned_again_next_run_and_confirmed_ones_are_not() -> None:
    s = sync("tasks", cap=WriteCap(column="hubspot_owner_id", max_per_run=2))
    rows = [task(i, "A") for i in range(5)]
    first = build_plan(s, rows, {})
    state = {
        key: ConfirmedState("9" + key, w.hashes[key], w.confirmed[key])
        for w in first.writes
        for key in w.record_keys
    }
    second = build_plan(s, rows, state)
    assert len(first.writes) == len(second.writes) == 2
    assert {w.trace_id for w in first.writes}.isdisjoint(w.trace_id for w in second.writes)
    assert len(second.deferred) == 1 and second.unchanged == 2


def test_a_new_due_date_on_an_existing_task_is_no_write() -> None:
    s = sync("tasks")
    rows = [task(i, "A") for i in range(3)]
    state = confirm_all(rows, s)
    for row in rows:  # the next build, one minute later: every due date moved
        row["hs_timestamp"] += timedelta(minutes=1)
    plan = build_plan(s, rows, state)
    assert plan.writes == [] and plan.unchanged == 3 and plan.by_owner == {}


def test_a_count_only_cap_defers_nothing() -> None:
    s = sync("tasks", cap=WriteCap(column="hubspot_owner_id"))
    plan = build_plan(s, [task(i, "A") for i in range(40)], {})
    assert plan.by_owner == {"A": 40} and plan.deferred == []
    assert plan.cap_line() == "tasks: 40 to create for 1 owner (owner A: 40)"


def test_a_cap_below_one_is_refused() -> None:
    text = SYNCS.read_text().replace("max_per_run: 25,", "max_per_run: 0,")
    with pytest.raises(SyncConfigError, match="max_per_run"):
        parse_config(text)


# --- repair --------------------------------------------------------------------------------


def test_equal_values_in_other_formats_are_not_drift() -> None:
    fields = sync("contacts").fields
    assert same_value(fields["lms_engagement_score"], "12.5", "12.50")
    assert same_value(fields["lms_last_activity_at"], "2026-05-01T09:30:00.000Z", "1777627800000")
    assert same_value(
        fields["lms_last_activity_at"], "2026-05-01T09:30:00Z", "2026-05-01T09:30:00Z"
    )
    assert same_value(fields["lms_recent_course_completion_date"], "2026-05-01", "2026-05-01")
    assert same_value(fields["lms_certified_products"], None, "")
    assert not same_value(fields["lms_engagement_score"], "12.5", None)
    assert not same_value(fields["lms_last_course_completed"], "Intro", "intro")


def test_a_value_cleared_in_hubspot_is_drift_and_only_it_is_resent() -> None:
    s = sync("contacts")
    rows = [contact("l1", "101"), contact("l2", "102")]
    state = confirm_all(rows, s)
    current = {
        "101": {**state["l1"].properties, "lms_engagement_score": None},
        "102": {**state["l2"].properties, "lms_engagement_score": "12.50"},
    }
    drift = update_drift(s, state, current)
    assert set(drift) == {"l1"}
    plan = build_plan(s, rows, state, repair=drift)
    [write] = plan.writes
    assert (write.action, write.target) == ("update", "101")
    assert write.properties == {"lms_engagement_score": "12.5"}
    assert plan.repaired == ["l1"] and plan.unchanged == 1
    # Without --repair the same state says nothing changed.
    assert build_plan(s, rows, state).writes == []


def test_a_lifecycle_moved_ahead_in_hubspot_is_not_drift_but_moved_back_is() -> None:
    s = sync("contacts")
    state = confirm_all([contact("l1", "101")], s)
    ahead = {**state["l1"].properties, "lifecyclestage": "customer"}
    assert drifted_update(s, state["l1"], ahead) is None
    back = {**state["l1"].properties, "lifecyclestage": "subscriber"}
    found = drifted_update(s, state["l1"], back)
    assert found is not None and found.properties["lifecyclestage"] == "subscriber"


def test_a_record_gone_from_hubspot_is_resent_whole() -> None:
    s = sync("contacts")
    rows = [contact("l1", "101")]
    state = confirm_all(rows, s)
    drift = update_drift(s, state, {})
    plan = build_plan(s, rows, state, repair=drift)
    [write] = plan.writes
    assert write.properties["lms_engagement_score"] == "12.5" and plan.repaired == ["l1"]


def test_a_deleted_note_is_created_again_with_its_association() -> None:
    s = sync("notes")
    rows = [
        {
            "activity_key": f"a{i}",
            "hubspot_contact_id": str(200 + i),
            "event_type": "completed",
            "course_id": "c1",
            "hs_timestamp": NOW,
            "hs_note_body": "Completed c1",
        }
        for i in range(3)
    ]
    state = confirm_all(rows, s)
    drift = missing_records(s, state, found=["a0", "a2"])
    assert drift == {"a1": None}
    plan = build_plan(s, rows, state, repair=drift)
    [write] = plan.writes
    assert (write.action, write.target, write.id_property) == ("create", "a1", "lms_activity_key")
    assert write.associate == [("contacts", "201", 202, "HUBSPOT_DEFINED")]
    assert plan.repaired == ["a1"]


def test_a_deleted_task_is_created_again_within_the_cap() -> None:
    s = sync("tasks", cap=WriteCap(column="hubspot_owner_id", max_per_run=1))
    rows = [task(i, "A") for i in range(3)]
    state = {k: ConfirmedState("9", "h", {"lms_task_key": k}) for k in ("t000", "t001", "t002")}
    drift = missing_records(s, state, found=["t001"])
    plan = build_plan(s, rows, state, repair=drift)
    assert len(plan.creates) == 1 and len(plan.deferred) == 1
    assert plan.repaired == [plan.creates[0].trace_id]


def test_drift_on_a_record_the_row_no_longer_targets_is_not_repaired() -> None:
    s = sync("contacts")
    state = confirm_all([contact("l1", "101")], s)
    drift = update_drift(s, state, {})  # contact 101 is gone from HubSpot...
    plan = build_plan(s, [contact("l1", "202")], state, repair=drift)  # ...the learner moved
    # the normal diff decides, as without --repair
    assert plan.repaired == [] and plan == build_plan(s, [contact("l1", "202")], state)


def test_repair_without_a_token_is_a_clear_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="LMSBRIDGE_HUBSPOT_ACCESS_TOKEN"):
        scan(None, sync("contacts"), {})
