"""Lists live once, as seeds: one event_types row is all a new touch type needs, and the
position-weight vars are checked to sum to 1."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from flows.dbt_step import SKIP_UNIT_TESTS
from lmsbridge_core.dbt_invocation import DbtInvocation
from tests.dbt.conftest import BuiltWarehouse
from tests.dbt.dbt_runner import copy_project, run_dbt

NEW_TYPE = "webinar_attended"
NEW_WEIGHT = 5.0
NEW_LABEL = "Attended the webinar"
# event_type,is_touch,touch_weight,in_activity_feed,activity_note_label,nudges_sales,webhook,
# occurrence,in_learning_events,hubspot_engagement_type
NEW_ROW = f"{NEW_TYPE},true,{NEW_WEIGHT},true,{NEW_LABEL},false,,repeatable,true,\n"
WEIGHT_TEST = "assert_position_weights_sum_to_one"


@pytest.fixture(scope="module")
def with_new_type(
    built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The tiny warehouse rebuilt with one event_types row added, and history rows of it."""
    work = tmp_path_factory.mktemp("new_event_type")
    project = copy_project(work)
    with (project / "seeds" / "event_types.csv").open("a", encoding="utf-8") as seed:
        seed.write(NEW_ROW)
    # same file name: DuckDB views keep the catalog name (the file's stem) in their SQL
    warehouse = work / built_warehouse.path.name
    shutil.copyfile(built_warehouse.path, warehouse)
    # the history file reporting the new type at the times it reported the existing ones
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "insert into raw_lms_files.lms_history_events "
            "select * replace (? as event_type, event_key || '/' || ? as event_key, "
            "_dlt_id || '/' || ? as _dlt_id) from raw_lms_files.lms_history_events",
            [NEW_TYPE, NEW_TYPE, NEW_TYPE],
        )
    # A task window wide enough for the tiny dataset's May completions (as_of is June 1).
    wide = json.dumps({"task_max_age_days": 30})
    # the type's rows landed before its seed row: the incremental learning-event models need
    # a full refresh to read them again (README, "Incremental builds and when to --full-refresh")
    select = ["--select", "event_types+", "tag:learning_events"]
    select += SKIP_UNIT_TESTS  # fixed inputs: the tiny build runs them
    build = DbtInvocation(warehouse, work, built_warehouse.as_of, project_dir=project).run(
        ["build", "--full-refresh", *select, "--vars", wide]
    )
    assert build.returncode == 0, build.output[-4000:]
    return warehouse


def _query(path: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


TOUCHES = "select touch_type_weight from intermediate.int_deal_touchpoints where event_type = ?"
CREDITS = (
    "select distinct attribution_model from marts.fct_deal_attribution "
    "where event_type = ? and credit > 0"
)
NOTES = "select hs_note_body from marts.rev_etl__hubspot_activities where event_type = ?"
TASKS = (
    "select hubspot_contact_id, course_id, hubspot_owner_id, hs_timestamp "
    "from marts.rev_etl__hubspot_tasks order by 1"
)
MODELS = "select attribution_model from staging.attribution_models"


def test_one_seed_row_adds_a_touch_type_everywhere(built_warehouse, with_new_type):
    for sql in (TOUCHES, CREDITS, NOTES):
        assert _query(built_warehouse.path, sql, NEW_TYPE) == [], sql
    touches = _query(with_new_type, TOUCHES, NEW_TYPE)
    assert touches, "the new type touches no deal"
    assert {weight for (weight,) in touches} == {NEW_WEIGHT}
    models = {model for (model,) in _query(with_new_type, CREDITS, NEW_TYPE)}
    every_model = {model for (model,) in _query(with_new_type, MODELS)}
    # linear and weighted credit every touch; position models only some
    assert {"linear", "weighted"} <= models <= every_model
    notes = _query(with_new_type, NOTES, NEW_TYPE)
    assert notes, "the new type wrote no timeline note"
    assert all(body.startswith(f'{NEW_LABEL} "') for (body,) in notes), notes


def test_a_type_not_flagged_nudges_sales_creates_no_task(with_new_type):
    tasks = _query(with_new_type, TASKS)
    # security-certification nudges by its course rule, automation-demo by its category; the
    # completed webinar and the new (not nudging) type add none. Due as_of + 1 day.
    assert tasks == [
        ("101", "security-certification", "501", datetime(2026, 6, 2, tzinfo=UTC)),
        ("102", "automation-demo", "501", datetime(2026, 6, 2, tzinfo=UTC)),
    ]


def test_position_weights_summing_to_one_pass(built_warehouse: BuiltWarehouse):
    statuses = built_warehouse.build.statuses()
    assert statuses[f"test.lmsbridge.{WEIGHT_TEST}"] == "pass"


def test_position_weights_not_summing_to_one_fail_by_name(tmp_path: Path):
    # the test reads int_attribution_models, which reads only the seed and the vars: an empty
    # warehouse is enough
    bad = {"u_shaped_first_weight": 0.5, "u_shaped_last_weight": 0.4}
    select = ["attribution_models", "int_attribution_models", WEIGHT_TEST]
    result = run_dbt(
        ["build", "--select", *select, "--vars", json.dumps(bad)],
        tmp_path / "empty.duckdb",
        tmp_path,
        "2026-06-01T00:00:00Z",
    )
    assert result.returncode != 0, result.output[-3000:]
    assert f"Failure in test {WEIGHT_TEST}" in result.output, result.output[-3000:]
    statuses = result.statuses()
    assert statuses.pop(f"test.lmsbridge.{WEIGHT_TEST}") == "fail"
    # nothing else fails (tests of marts not built here are skipped)
    assert set(statuses.values()) <= {"pass", "success", "skipped"}, statuses


def test_a_null_where_a_mart_contract_says_not_null_fails_the_build_by_column(tmp_path: Path):
    # Not-null columns of contracted marts are constraints, not test nodes: the table refuses
    # the row when it is built, so the build fails (and the reverse ETL never runs) as a
    # failing not_null test would, naming the model and the column.
    project = copy_project(tmp_path)
    with (project / "seeds" / "attribution_models.csv").open("a", encoding="utf-8") as seed:
        seed.write("unlabelled,,linear,,,,,,,,,,,\n")
    select = ["attribution_models", "int_attribution_models", "dim_attribution_models"]
    # Without the seed's own tests, which would stop the build first.
    no_tests = ["--exclude-resource-type", "test", "unit_test"]
    result = DbtInvocation(
        tmp_path / "empty.duckdb", tmp_path, "2026-06-01T00:00:00Z", project_dir=project
    ).run(["build", "--select", *select, *no_tests])
    assert result.returncode != 0, result.output[-3000:]
    statuses = result.statuses()
    assert statuses["model.lmsbridge.dim_attribution_models"] == "error", statuses
    assert "NOT NULL constraint failed" in result.output and "label" in result.output, (
        result.output[-3000:]
    )
