"""The two-way field plan: which way each value goes, decided from both sides and the value
they last agreed on (pure: no warehouse, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reverse_etl.field_plan import (
    FieldRow,
    Recorded,
    build_field_plan,
    canonical,
    decide,
    normalize,
)
from reverse_etl.mappings import (
    FieldMapping,
    FieldMappings,
    PropertyDefinition,
    check_mapping,
)

PHONE_BOTH_HS = FieldMapping(
    lms="fields.phone", hubspot="phone", type="string", direction="both", winner="hubspot"
)
PHONE_BOTH_LMS = PHONE_BOTH_HS.model_copy(update={"winner": "lms"})
JOB_TO_LMS = FieldMapping(
    lms="fields.cf_job_title", hubspot="jobtitle", type="string", direction="to_lms"
)
COMPANY_TO_HS = FieldMapping(
    lms="fields.company", hubspot="company", type="string", direction="to_hubspot"
)


def row(mapping: FieldMapping, lms: str | None, hub: str | None) -> FieldRow:
    return FieldRow("L1", "u1", "101", mapping, lms, hub)


def test_equal_sides_with_recorded_agreement_need_nothing() -> None:
    assert decide(row(PHONE_BOTH_HS, "1", "1"), "1") is None


def test_equal_sides_never_recorded_are_recorded_without_a_call() -> None:
    d = decide(row(PHONE_BOTH_HS, "1", "1"))
    assert d is not None and d.way is None and d.agree == "1" and d.agreed_changed


def test_hubspot_edit_of_a_to_lms_field_goes_to_the_lms() -> None:
    d = decide(row(JOB_TO_LMS, "Analyst", "CFO"), "Analyst")
    assert d is not None and (d.way, d.value) == ("to_lms", "CFO")


def test_lms_edit_of_a_to_lms_field_never_goes_to_hubspot() -> None:
    d = decide(row(JOB_TO_LMS, "Analyst", "CFO"), "CFO")
    assert d is not None and d.way is None


def test_hubspot_edit_of_a_to_hubspot_field_never_goes_to_the_lms() -> None:
    d = decide(row(COMPANY_TO_HS, "Acme", "Acme Inc"), "Acme")
    assert d is not None and d.way is None


def test_both_sides_changed_resolve_by_the_winner_every_time() -> None:
    for _ in range(3):  # the same inputs give the same answer, run after run
        d = decide(row(PHONE_BOTH_HS, "+44 1", "+44 2"), "+44 0")
        assert d is not None and (d.way, d.value) == ("to_lms", "+44 2")
    d = decide(row(PHONE_BOTH_LMS, "+44 1", "+44 2"), "+44 0")
    assert d is not None and (d.way, d.value) == ("to_hubspot", "+44 1")


def test_a_value_we_wrote_is_not_echoed_back() -> None:
    # After we sent "+44 2" to the LMS, both sides hold it and it is the agreed value.
    assert decide(row(PHONE_BOTH_HS, "+44 2", "+44 2"), "+44 2") is None


def test_a_copy_read_before_our_write_is_not_taken_for_a_change() -> None:
    wrote = datetime(2026, 3, 1, 12, tzinfo=UTC)
    # We wrote "+44 2" to the LMS; the warehouse still has the LMS copy read before that.
    stale = FieldRow("L1", "u1", "101", PHONE_BOTH_HS, "+44 1", "+44 2", wrote - timedelta(hours=1))
    assert decide(stale, "+44 2", written_to="lms", written_at=wrote) is None
    # Read again after the write and edited since: that is a real LMS change.
    fresh = FieldRow("L1", "u1", "101", PHONE_BOTH_HS, "+44 9", "+44 2", wrote + timedelta(hours=1))
    d = decide(fresh, "+44 2", written_to="lms", written_at=wrote)
    assert d is not None and (d.way, d.value) == ("to_hubspot", "+44 9")
    # The same guard for HubSpot after a write there.
    stale_hub = FieldRow("L1", "u1", "101", PHONE_BOTH_LMS, "+44 5", "+44 4", None, None)
    assert decide(stale_hub, "+44 5", written_to="hubspot", written_at=wrote) is None


def test_first_sight_fills_a_gap_instead_of_clearing() -> None:
    d = decide(row(PHONE_BOTH_LMS, None, "+1 555"))
    assert d is not None and (d.way, d.value) == ("to_lms", "+1 555")
    d = decide(row(JOB_TO_LMS, "Analyst", None))
    assert d is not None and d.way is None, "an empty HubSpot value must not wipe the LMS"


def test_a_value_cleared_on_one_side_is_cleared_on_the_other() -> None:
    d = decide(row(PHONE_BOTH_HS, "+1 555", None), "+1 555")
    assert d is not None and (d.way, d.value) == ("to_lms", None)


def test_a_value_the_lms_refused_is_not_resent_until_it_changes() -> None:
    d = decide(row(JOB_TO_LMS, "A", "B"), "A", rejected="B")
    assert d is not None and d.way is None
    d = decide(row(JOB_TO_LMS, "A", "C"), "A", rejected="B")
    assert d is not None and (d.way, d.value) == ("to_lms", "C")


def test_resync_aligns_differences_only_where_the_direction_allows() -> None:
    assert decide(row(JOB_TO_LMS, "A", "B"), "B", resync="to_hubspot").way is None  # type: ignore[union-attr]
    d = decide(row(PHONE_BOTH_HS, "1", "2"), "2", resync="to_hubspot")
    assert d is not None and (d.way, d.value) == ("to_hubspot", "1")
    d = decide(row(PHONE_BOTH_HS, "1", "2"), "1", resync="both")
    assert d is not None and d.way == "to_lms"  # the mapping's winner
    d = decide(row(PHONE_BOTH_HS, "1", None), "1", resync="to_lms")
    assert d is not None and d.way is None, "an empty source never wipes the other side"


def test_values_compare_in_one_form_per_type() -> None:
    assert canonical("number", "5.0") == canonical("number", "5") == "5"
    assert canonical("bool", "TRUE") == "true"
    assert canonical("datetime", "2026-03-01 09:30:00+00") == "2026-03-01T09:30:00.000Z"
    assert canonical("datetime", "1772357400000") == "2026-03-01T09:30:00.000Z"
    assert canonical("date", "2026-03-01T00:00:00Z") == "2026-03-01"
    assert canonical("string", "  ") is None
    tags = FieldMapping(lms="tags", hubspot="lms_tags", type="string", direction="to_hubspot")
    assert normalize(tags, "b;a; b") == "a;b"


def test_plan_counts_each_outcome() -> None:
    rows = [
        FieldRow("L1", "u1", "1", JOB_TO_LMS, "A", "B"),
        FieldRow("L2", "u2", "2", JOB_TO_LMS, "A", "A"),
        FieldRow("L3", "u3", "3", COMPANY_TO_HS, "X", None),
    ]
    state = {
        ("L1", JOB_TO_LMS.key): Recorded("A", None, None, None),
        ("L2", JOB_TO_LMS.key): Recorded("A", None, None, None),
    }
    plan = build_field_plan(rows, state)
    assert plan.summary() == {"to_hubspot": 1, "to_lms": 1, "agreed": 0, "unchanged": 1, "held": 0}
    assert list(plan.to_lms_by_learner()) == ["u1"]
    assert list(plan.to_hubspot_by_contact()) == ["3"]


PROPS = {
    "phone": PropertyDefinition("phone", "string", "phonenumber", False),
    "jobtitle": PropertyDefinition("jobtitle", "string", "text", False),
    "num": PropertyDefinition("num", "number", "number", False),
    "calc": PropertyDefinition("calc", "number", "calculation_equation", True),
}


@pytest.mark.parametrize(
    ("mapping", "problem"),
    [
        (PHONE_BOTH_HS, None),
        (JOB_TO_LMS, None),
        (FieldMapping(lms="fields.phone", hubspot="gone", type="string", direction="to_hubspot"),
         "HubSpot has no contact property 'gone'"),
        (FieldMapping(lms="fields.phone", hubspot="num", type="string", direction="to_hubspot"),
         "type string does not fit HubSpot property num (number/number)"),
        (FieldMapping(lms="first_name", hubspot="jobtitle", type="string", direction="to_lms"),
         "first_name is read-only (not writable through the LearnWorlds API): it can only map to_hubspot"),
        (FieldMapping(lms="usage.last_login", hubspot="num", type="number", direction="to_hubspot"),
         "type number does not fit usage.last_login (a datetime field)"),
        (FieldMapping(lms="fields.cf_gone", hubspot="jobtitle", type="string", direction="to_hubspot"),
         "no learner has the custom field fields.cf_gone (deleted?)"),
        (FieldMapping(lms="usage.purchases_count", hubspot="calc", type="number", direction="to_hubspot"),
         "HubSpot property calc is calculated: it can only map to_lms"),
        (FieldMapping(lms="nickname", hubspot="jobtitle", type="string", direction="to_hubspot"),
         "'nickname' is not a LearnWorlds user field"),
    ],
)  # fmt: skip
def test_mapping_checks_name_the_problem(mapping: FieldMapping, problem: str | None) -> None:
    seen = {"fields.phone", "fields.cf_job_title"}
    assert check_mapping(mapping, PROPS, seen).problem == problem


def test_mapping_file_shape_errors_fail_at_load() -> None:
    with pytest.raises(ValueError, match="needs winner"):
        FieldMapping(lms="fields.phone", hubspot="phone", type="string", direction="both")
    with pytest.raises(ValueError, match="written by two mappings"):
        FieldMappings(fields=(COMPANY_TO_HS, COMPANY_TO_HS.model_copy(update={"lms": "username"})))
