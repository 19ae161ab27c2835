"""Who edited a property, from history shaped as the real API returns it (INTEGRATION with
the app's id for apps, CRM_UI with a user for people)."""

from __future__ import annotations

from typing import Any

from reverse_etl import edited_by as eb

OUR_APP, OTHER_APP = "5670736", "8151242"


def _record(prop: str, *versions: tuple[str, str, str, str]) -> dict[str, Any]:
    """versions: (value, timestamp, sourceType, sourceId), in any order."""
    return {
        "id": "1",
        "propertiesWithHistory": {
            prop: [
                {"value": v, "timestamp": t, "sourceType": st, "sourceId": sid}
                for v, t, st, sid in versions
            ]
        },
    }


def _who(record: dict[str, Any], confirmed: str) -> eb.Editor:
    history = eb.versions(record, "score")
    ours = eb.our_signatures(history[1:], confirmed)
    return eb.classify(history, ours)


def test_another_app_is_an_integration_and_our_app_is_recognised_by_its_own_write() -> None:
    ours = ("12", "2026-01-01T10:00:00.000Z", "INTEGRATION", OUR_APP)
    other = _record("score", ("40", "2026-01-02T10:00:00.000Z", "INTEGRATION", OTHER_APP), ours)
    editor = _who(other, "12.0")  # HubSpot may reformat the number we sent
    assert (editor.edited_by, editor.edited_source) == ("integration", f"INTEGRATION ({OTHER_APP})")
    assert editor.edited_at is not None and editor.edited_at.isoformat().startswith("2026-01-02")

    again = _record("score", ("40", "2026-01-02T10:00:00.000Z", "INTEGRATION", OUR_APP), ours)
    assert _who(again, "12").edited_by == "lmsbridge"


def test_people_and_other_sources() -> None:
    ours = ("12", "2026-01-01T10:00:00.000Z", "INTEGRATION", OUR_APP)
    # Listed oldest first: versions() still puts the newest first.
    person = _record("score", ours, ("7", "2026-01-03T09:00:00.000Z", "CRM_UI", "userId:42"))
    assert _who(person, "12").edited_by == "person"
    workflow = _record("score", ours, ("7", "2026-01-03T09:00:00Z", "AUTOMATION_PLATFORM", "wf"))
    assert _who(workflow, "12").edited_by == "unknown"
    assert _who({"id": "1"}, "12").edited_by == "unknown"  # no history returned


def test_a_persons_old_edit_matching_our_value_does_not_make_the_ui_ours() -> None:
    # A person typed 12 once, then another person changed it: CRM_UI never counts as us.
    record = _record(
        "score",
        ("12", "2026-01-01T10:00:00.000Z", "CRM_UI", "userId:1"),
        ("9", "2026-01-02T10:00:00.000Z", "CRM_UI", "userId:1"),
    )
    assert _who(record, "12").edited_by == "person"
