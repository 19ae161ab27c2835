"""Deleted learners' rows (tombstones) under each on_delete policy, as pure plans (no servers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reverse_etl.config import Sync, SyncConfigError, load_config, parse_config
from reverse_etl.plan import ConfirmedState, SyncPlan, build_plan, tombstone_hash
from tests.reverse_etl.retl_support import confirm_all
from tests.reverse_etl.test_retl_cap_repair import contact, task

SYNCS = Path(__file__).resolve().parents[2] / "reverse_etl" / "syncs.yml"
CONFIG = load_config(SYNCS)


def sync(name: str, **changes: Any) -> Sync:
    found = next(s for s in CONFIG.syncs if s.name == name)
    return found.model_copy(update=changes)


def contacts_sync(policy: str) -> Sync:
    return sync("contacts", on_delete=policy, do_not_create_column="hubspot_contact_archived")


def live(key: str, contact_id: str | None, **values: Any) -> dict[str, Any]:
    return contact(
        key, contact_id, **{"lms_deleted": False, "hubspot_contact_archived": False, **values}
    )


def deleted(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "lms_deleted": True}


def confirm(plan: SyncPlan, state: dict[str, ConfirmedState]) -> dict[str, ConfirmedState]:
    """sync_state after HubSpot confirmed every write and the no-op state moves of `plan`."""
    after = dict(state)
    for write in plan.writes:
        for key in write.record_keys:
            after[key] = ConfirmedState(write.target, write.hashes[key], write.confirmed[key])
    for key, hubspot_id, digest, props in plan.noops:
        after[key] = ConfirmedState(hubspot_id, digest, props)
    return after


def test_clear_empties_our_properties_once_and_keeps_hubspots() -> None:
    s = contacts_sync("clear")
    row = live("u1", "501")
    state = confirm_all([row], s)

    first = build_plan(s, [deleted(row)], state)
    assert first.tombstones == {"cleared": ["u1"]}
    (write,) = first.writes
    assert (write.kind, write.target) == ("update", "501")
    # every lms_* value HubSpot held is cleared with ""; lifecyclestage is HubSpot's: kept
    assert write.properties == {
        "lms_user_id": "",
        "lms_source": "",
        "lms_courses_completed_count": "",
        "lms_last_course_completed": "",
        "lms_recent_course_completion_date": "",
        "lms_engagement_score": "",
        "lms_last_activity_at": "",
    }
    assert write.confirmed["u1"]["lifecyclestage"] == "lead"

    second = build_plan(s, [deleted(row)], confirm(first, state))
    assert second.writes == [] and second.noops == [] and second.unchanged == 1
    assert second.tombstones == {}


def test_leave_writes_nothing_and_stops_later_writes() -> None:
    s = contacts_sync("leave")
    row = live("u1", "501")
    state = confirm_all([row], s)
    first = build_plan(s, [deleted(row)], state)
    assert first.writes == [] and first.tombstones == {"left": ["u1"]}
    assert first.noops[0][2] == tombstone_hash(s)
    # the learner's values keep changing in the mart: nothing goes out any more
    changed = deleted({**row, "lms_engagement_score": 99.0})
    assert build_plan(s, [changed], confirm(first, state)).writes == []


def test_archive_archives_only_contacts_lmsbridge_created() -> None:
    s = contacts_sync("archive")
    ours, theirs = live("u1", "501"), live("u2", "502")
    state = confirm_all([ours, theirs], s)
    plan = build_plan(s, [deleted(ours), deleted(theirs)], state, created={"u1"})
    by_kind = {w.kind: w for w in plan.writes}
    assert by_kind["archive"].target == "501" and by_kind["archive"].properties == {}
    # a contact we did not create is never archived: its lms_* values are cleared instead
    assert by_kind["update"].target == "502"
    assert by_kind["update"].properties["lms_user_id"] == ""
    assert plan.tombstones == {"archived": ["u1"], "cleared": ["u2"]}
    assert plan.summary()["write_batches"]["archive"] == 1


def test_a_contact_another_live_learner_writes_is_left_alone() -> None:
    s = contacts_sync("clear")
    gone, stays = live("u1", "501"), live("u2", "501", lms_engagement_score=3.0)
    state = confirm_all([gone], s)
    plan = build_plan(s, [deleted(gone), stays], state)
    assert plan.tombstones == {"left": ["u1"]}
    assert all(w.properties.get("lms_user_id") != "" for w in plan.writes)


def test_a_deleted_learner_never_sent_is_never_created_later() -> None:
    s = contacts_sync("clear").model_copy(update={"create_missing_contacts": True})
    row = live("u1", None)
    first = build_plan(s, [deleted(row)], {})
    assert first.writes == [] and first.tombstones == {"left": ["u1"]}
    assert build_plan(s, [deleted(row)], confirm(first, {})).unchanged == 1


def test_an_undeleted_learner_is_written_again_in_full() -> None:
    s = contacts_sync("clear")
    row = live("u1", "501")
    state = confirm_all([row], s)
    cleared = confirm(build_plan(s, [deleted(row)], state), state)
    back = build_plan(s, [row], cleared)
    (write,) = back.writes
    assert write.properties["lms_user_id"] == "u1" and back.tombstones == {}


def test_tasks_archive_skips_the_owner_cap() -> None:
    s = sync("tasks", on_delete="archive")
    rows = [{**task(i, "A"), "lms_deleted": False} for i in range(3)]
    state = confirm_all(rows, s)
    state = {
        k: ConfirmedState(f"90{i}", v.row_hash, v.properties)
        for i, (k, v) in enumerate(state.items())
    }
    new = [{**task(10 + i, "A"), "lms_deleted": False} for i in range(30)]
    plan = build_plan(s, [{**r, "lms_deleted": True} for r in rows] + new, state)
    assert len(plan.archives) == 3 and {w.target for w in plan.archives} == {"900", "901", "902"}
    assert plan.by_owner == {"A": 25} and len(plan.deferred) == 5


def test_archived_contacts_are_not_recreated() -> None:
    s = contacts_sync("clear").model_copy(update={"create_missing_contacts": True})
    plan = build_plan(s, [live("u1", None, hubspot_contact_archived=True)], {})
    assert plan.writes == []
    assert plan.skipped == [("u1", "its contact was archived in HubSpot (not re-created)")]


def test_clear_is_refused_on_syncs_that_create_their_records() -> None:
    text = SYNCS.read_text()
    assert "on_delete: archive" in text, "the notes policy in syncs.yml changed: update this test"
    text = text.replace("on_delete: archive", "on_delete: clear")
    with pytest.raises(SyncConfigError, match="on_delete 'clear' needs mode 'update'"):
        parse_config(text)
