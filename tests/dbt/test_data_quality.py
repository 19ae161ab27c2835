"""A value that does not parse never fails the build or drops its record: it becomes null in
staging, its record reaches the marts, and marts.data_quality_issues lists it with a reason."""

from __future__ import annotations

from tests.dbt.bad_input_dataset import BLANK_VALUES, EXPECTED_ISSUES
from tests.dbt.conftest import BuiltWarehouse

WARN_TEST = "test.lmsbridge.warn_data_quality_issues"


def _issues(warehouse: BuiltWarehouse) -> set[tuple]:
    rows = warehouse.query(
        "select source_table, record_key, column_name, raw_value, reason, severity "
        "from marts.data_quality_issues where source_table <> 'raw_lms_files.rejected_rows'"
    )
    return {
        (table, None if table == "raw_lms.webhook_events" else key, *rest)
        for table, key, *rest in rows
    }


def test_build_passes_and_only_the_warn_test_warns(bad_input_warehouse: BuiltWarehouse):
    build = bad_input_warehouse.build
    assert build.returncode == 0, build.output[-4000:]
    results = {r["unique_id"]: r for r in build.run_results["results"]}
    not_ok = {
        uid: r["status"]
        for uid, r in results.items()
        if r["status"] not in ("success", "pass") and not uid.startswith("exposure.")
    }
    assert not_ok == {WARN_TEST: "warn"}
    warn_rows = sum(1 for issue in EXPECTED_ISSUES if issue[5] == "warn")
    # plus the tiny dataset's one rejected history CSV line
    assert results[WARN_TEST]["failures"] == warn_rows + 1 == 6


def test_every_bad_value_is_listed_with_its_reason(bad_input_warehouse: BuiltWarehouse):
    assert _issues(bad_input_warehouse) == EXPECTED_ISSUES


def test_blank_strings_become_null_without_an_issue(bad_input_warehouse: BuiltWarehouse):
    listed = {
        (t, k, c)
        for t, k, c in bad_input_warehouse.query(
            "select source_table, record_key, column_name from marts.data_quality_issues"
        )
    }
    assert not BLANK_VALUES & listed
    price, score = bad_input_warehouse.query(
        "select (select price from staging.stg_learnworlds__payments where payment_id = 'pbad1'),"
        " (select score_text from staging.stg_learnworlds__certificates"
        "  where certificate_id = 'cbad00000000000000000002')"
    )[0]
    assert price is None and score is None


def test_records_with_bad_values_still_reach_the_marts(bad_input_warehouse: BuiltWarehouse):
    events = set(
        bad_input_warehouse.query(
            "select l.lms_user_id, e.course_id, e.event_type, e.score, e.source, "
            "strftime(e.occurred_at, '%d') from marts.fct_learning_events as e "
            "join marts.dim_learners as l using (learner_key) "
            "where (l.lms_user_id, e.course_id) in (('u02', 'automation-demo'), "
            "('u02', 'roi-webinar'), ('u13', 'security-certification'), ('u13', 'roi-webinar'), "
            "('u07', 'roi-webinar')) and e.event_type <> 'enrolled'"
        )
    )
    assert {
        # certificate score "OK": the certificate counts, its score is null
        ("u02", "automation-demo", "certificate_issued", None, "api", "13"),
        # blank score
        ("u02", "roi-webinar", "certificate_issued", None, "api", "14"),
        # progress_rate "abc": the completion counts (average_score_rate 0 means ungraded)
        ("u13", "security-certification", "completed", None, "api", "16"),
        # price "": the purchase counts
        ("u02", "roi-webinar", "purchase", None, "api", "17"),
        # created "not-a-date": the purchase counts at its payment time
        ("u13", "roi-webinar", "purchase", None, "api", "18"),
        # submittedTimestamp in milliseconds: the pass counts at the grade's creation
        ("u02", "automation-demo", "assessment_passed", 88.0, "api", "19"),
        # webhook certificate score "OK"
        ("u07", "roi-webinar", "certificate_issued", None, "webhook", "26"),
    } <= events
    learner = bad_input_warehouse.query(
        "select count(*) from marts.dim_learners where lms_user_id = 'u03'"
    )
    assert learner == [(1,)]


def test_textual_scores_are_kept_as_text_in_staging(bad_input_warehouse: BuiltWarehouse):
    rows = bad_input_warehouse.query(
        "select score, score_text from staging.stg_learnworlds__certificates "
        "where certificate_id in ('c0000000000000000000001', 'cbad00000000000000000001') "
        "order by certificate_id"
    )
    assert rows == [(91.0, "91"), (None, "OK")]
    hooks = bad_input_warehouse.query(
        "select certificate_score, certificate_score_text from staging.stg_learnworlds__webhook_events "
        "where webhook_type = 'awardedCertificate'"
    )
    assert hooks == [(None, "OK")]


def test_dlt_variant_columns_are_read_not_ignored(bad_input_warehouse: BuiltWarehouse):
    """dlt lands a string it cannot coerce to a double column's type in `<col>__v_text`."""
    columns = {
        (table, column)
        for table, column in bad_input_warehouse.query(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'raw_lms' and column_name like '%\\_\\_v\\_text' escape '\\'"
        )
    }
    assert columns == {
        ("user_progress", "progress_rate__v_text"),
        ("payments", "price__v_text"),
        ("payments", "discount__v_text"),
        ("payments", "created__v_text"),
        ("users", "last_login__v_text"),
    }
