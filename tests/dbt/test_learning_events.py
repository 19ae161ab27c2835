"""Unified learning events: one row per real event across API, webhook and CSV."""

from __future__ import annotations

from tests.dbt.conftest import BuiltWarehouse


def test_completion_reported_by_api_webhook_and_csv_appears_once_from_api(
    built_warehouse: BuiltWarehouse,
):
    rows = built_warehouse.query(
        "select e.source, e.hubspot_contact_id from marts.fct_learning_events as e "
        "join marts.dim_learners as l using (learner_key) "
        "where l.lms_user_id = 'u01' and e.course_id = 'security-certification' "
        "and e.event_type = 'completed'"
    )
    assert rows == [("api", "101")]


def test_event_ids_are_unique_and_every_source_contributes(built_warehouse: BuiltWarehouse):
    total, distinct = built_warehouse.query(
        "select count(*), count(distinct event_id) from marts.fct_learning_events"
    )[0]
    assert total == distinct > 0
    sources = {
        r[0] for r in built_warehouse.query("select distinct source from marts.fct_learning_events")
    }
    assert sources == {"api", "webhook", "csv"}


def test_failed_grade_is_not_a_passed_assessment(built_warehouse: BuiltWarehouse):
    passed = built_warehouse.query(
        "select l.lms_user_id, e.score from marts.fct_learning_events as e "
        "join marts.dim_learners as l using (learner_key) where e.event_type = 'assessment_passed'"
    )
    assert passed == [("u01", 85.0)]


def test_no_task_for_old_completions_and_one_note_per_event(
    built_warehouse: BuiltWarehouse,
):
    # Every completion is 20+ days before as_of (2026-06-01), past the 14-day task_max_age_days:
    # no task. The nudge rules with a wider window: tests/dbt/test_lists_agree.py.
    tasks = built_warehouse.query("select course_id from marts.rev_etl__hubspot_tasks")
    assert tasks == []
    notes, events = built_warehouse.query(
        "select (select count(*) from marts.rev_etl__hubspot_activities), "
        "(select count(*) from marts.fct_learning_events where hubspot_contact_id is not null "
        "and event_type in ('completed', 'assessment_passed'))"
    )[0]
    assert notes == events > 0
