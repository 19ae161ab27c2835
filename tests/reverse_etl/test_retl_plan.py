from datetime import date
from pathlib import Path
from typing import Any

import pytest

from reverse_etl.config import Sync, load_config
from reverse_etl.plan import (
    ConfirmedState,
    RowSkipped,
    Target,
    build_plan,
    diff_row,
    prepare_row,
    resolve_target,
)
from tests.reverse_etl.retl_support import confirm_all

CONFIG = load_config(Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml")


def sync(name: str, **changes: Any) -> Sync:
    found = next(s for s in CONFIG.syncs if s.name == name)
    return found.model_copy(update=changes) if changes else found


def contact(key: str, contact_id: str | None, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "learner_key": key,
        "hubspot_contact_id": contact_id,
        "email": f"{key}@example.com",
        "marketing_consent": True,
        "lms_user_id": key,
        "lms_source": "learnworlds",
        "lms_courses_completed_count": 2,
        "lms_last_course_completed": "Intro",
        "lms_recent_course_completion_date": date(2024, 5, 1),
        "lms_engagement_score": 12.5,
        "lms_certified_products": None,
        "lms_last_activity_at": None,
        "lifecyclestage": None,
    }
    row.update(values)
    return row


def test_rows_matching_confirmed_hash_are_unchanged_and_one_change_sends_one_property() -> None:
    s = sync("contacts")
    rows = [contact(f"l{i}", str(100 + i)) for i in range(5)]
    state = confirm_all(rows, s)
    assert build_plan(s, rows, state).writes == []
    rows[2]["lms_engagement_score"] = 13.0
    plan = build_plan(s, rows, state)
    assert plan.unchanged == 4
    [write] = plan.writes
    assert (write.kind, write.target, write.properties) == (
        "update",
        "102",
        {"lms_engagement_score": "13"},
    )


def test_full_resend_ignores_state() -> None:
    s = sync("contacts")
    rows = [contact("a", "1"), contact("b", "2")]
    plan = build_plan(s, rows, confirm_all(rows, s), full=True)
    assert plan.planned == 2


def test_cleared_value_is_sent_as_empty_string() -> None:
    s = sync("contacts")
    rows = [contact("a", "1")]
    state = confirm_all(rows, s)
    rows[0]["lms_last_course_completed"] = None
    [write] = build_plan(s, rows, state).writes
    assert write.properties == {"lms_last_course_completed": ""}


def test_two_rows_for_one_contact_become_one_input() -> None:
    s = sync("contacts")
    plan = build_plan(s, [contact("a", "7"), contact("b", "7", lms_source="csv")], {})
    [write] = plan.writes
    assert write.record_keys == ["a", "b"]
    assert write.properties["lms_source"] == "csv"


def test_unmatched_learners_are_created_by_email_only_when_enabled_and_consented() -> None:
    rows = [
        contact("a", None, email=" Ada@Example.com"),
        contact("b", None, email="ada@example.COM"),
        contact("c", None, marketing_consent=False),
        contact("d", None, marketing_consent=None),
    ]
    off = build_plan(sync("contacts"), rows, {})
    assert off.writes == [] and len(off.skipped) == 4
    on = build_plan(sync("contacts", create_missing_contacts=True), rows, {})
    [write] = on.writes
    assert (write.kind, write.id_property, write.target, write.action) == (
        "upsert",
        "email",
        "ada@example.com",
        "create",
    )
    assert write.record_keys == ["a", "b"]
    assert len(on.skipped) == 2


def test_invalid_values_are_planned_as_invalid_not_sent() -> None:
    s = sync("contacts")
    rows = [contact("a", "1", lms_engagement_score=float("inf")), contact("b", "2")]
    plan = build_plan(s, rows, {})
    assert [w.target for w in plan.writes] == ["2"]
    [bad] = plan.invalid
    assert (bad.record_key, bad.category) == ("a", "INVALID_INTEGER")
    assert "lms_engagement_score" in bad.message


def test_lifecycle_is_never_sent_backwards() -> None:
    s = sync("contacts")
    rows = [contact("a", "1", lifecyclestage="lead"), contact("b", "2", lifecyclestage="customer")]
    plan = build_plan(
        s,
        rows,
        {},
        hubspot_current={"1": {"lifecyclestage": "customer"}, "2": {"lifecyclestage": "lead"}},
    )
    by_target = {w.target: w.properties for w in plan.writes}
    assert "lifecyclestage" not in by_target["1"]
    assert by_target["2"]["lifecyclestage"] == "customer"


def test_backward_only_change_advances_state_without_a_call() -> None:
    s = sync("contacts")
    rows = [contact("a", "1", lifecyclestage="customer")]
    state = confirm_all(rows, s)
    rows[0]["lifecyclestage"] = "lead"
    plan = build_plan(s, rows, state)
    assert plan.writes == [] and len(plan.noops) == 1


def test_stage_reached_then_null_is_neither_cleared_nor_resent() -> None:
    # The mart emits a stage only while it is ahead of HubSpot's, so after the write it
    # turns null: that must not clear the stage in HubSpot nor count as a change.
    s = sync("contacts")
    rows = [contact("a", "1", lifecyclestage="lead")]
    state = confirm_all(rows, s)
    rows[0]["lifecyclestage"] = None
    plan = build_plan(s, rows, state)
    assert plan.writes == []
    assert all("lifecyclestage" not in props for *_, props in plan.noops)


def task(key: str, contact_id: str | None = "9") -> dict[str, Any]:
    return {
        "task_key": key,
        "hubspot_contact_id": contact_id,
        "hubspot_owner_id": "41",
        "course_id": "c1",
        "hs_task_subject": "Follow up",
        "hs_task_body": "b",
        "hs_timestamp": date(2024, 6, 1),
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH",
        "hs_task_type": "TODO",
    }


def test_tasks_upsert_by_unique_key_with_association_and_are_created_once() -> None:
    s = sync("tasks")
    rows = [task("k1"), task("k2", contact_id=None)]
    plan = build_plan(s, rows, {})
    [write] = plan.writes
    assert (write.kind, write.id_property, write.target) == ("upsert", "lms_task_key", "k1")
    assert write.properties["lms_task_key"] == "k1"
    assert write.associate == [("contacts", "9", 204, "HUBSPOT_DEFINED")]
    assert [r.category for r in plan.invalid] == ["missing_association"]
    state = {"k1": ConfirmedState("555", "old-hash", write.confirmed["k1"])}
    assert build_plan(s, rows[:1], state).writes == []


def test_unassociated_upserted_notes_get_associated_again() -> None:
    s = sync("notes")
    row = {
        "activity_key": "e1",
        "hubspot_contact_id": "9",
        "event_type": "completed",
        "course_id": "c",
        "hs_timestamp": date(2024, 6, 1),
        "hs_note_body": "Completed c",
    }
    [first] = build_plan(s, [row], {}).writes
    # A crash after the upsert: no state, so the rerun repeats upsert and association.
    [again] = build_plan(s, [row], {}).writes
    assert again.associate == first.associate != []
    state = {"e1": ConfirmedState("77", "h", first.confirmed["e1"])}
    row["hs_note_body"] = "Completed c (edited)"
    [edit] = build_plan(s, [row], state).writes
    assert edit.associate == [] and edit.action == "update"


def test_batches_hold_at_most_100_inputs() -> None:
    s = sync("deals")
    rows = [
        {
            "hubspot_deal_id": str(i),
            "lms_influenced": True,
            "lms_touch_count": 1,
            "lms_learners_count": 1,
            "lms_first_course": "a",
            "lms_last_course": "b",
            "lms_top_course": "a",
            "lms_attributed_amount": 10.0,
            "lms_attribution_model": "linear",
        }
        for i in range(250)
    ]
    batches = build_plan(s, rows, {}).batches("update")
    assert [len(b) for b in batches] == [100, 100, 50]


def test_target_resolution_on_its_own_routes_skips_and_refuses() -> None:
    create = sync("contacts", create_missing_contacts=True)
    assert resolve_target(create, "a", contact("a", "9")) == Target("update", "9", None)
    assert resolve_target(create, "a", contact("a", None, email=" A@X.io")) == Target(
        "upsert", "a@x.io", "email"
    )
    with pytest.raises(RowSkipped, match="marketing_consent is not true"):
        resolve_target(create, "a", contact("a", None, marketing_consent=False))
    with pytest.raises(RowSkipped, match="creation is off"):
        resolve_target(sync("contacts"), "a", contact("a", ""))


def test_diff_on_its_own_sends_only_changed_values_and_none_when_the_hash_matches() -> None:
    s = sync("contacts")
    row = prepare_row(s, contact("a", "1"), set())
    assert diff_row(s, row, ConfirmedState("1", row.digest, row.props), {}) is None
    before = {**row.props, "lms_engagement_score": "12", "lms_source": None}
    change = diff_row(s, row, ConfirmedState("1", "old", before), {})
    assert change is not None
    assert change.send == {"lms_engagement_score": "12.5", "lms_source": "learnworlds"}
