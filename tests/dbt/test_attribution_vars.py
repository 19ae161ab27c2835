"""Analysts tune attribution with vars: a rerun with other vars changes credits as defined."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import duckdb
import pytest

from tests.dbt.conftest import BuiltWarehouse
from tests.dbt.dbt_runner import run_dbt

NEW_VARS = {
    "half_life_days": 14,
    "u_shaped_first_weight": 0.5,
    "u_shaped_last_weight": 0.3,
    "u_shaped_middle_weight": 0.2,
    "default_attribution_model": "u_shaped",
}
CREDITS_SQL = (
    "select a.deal_id, a.touchpoint_id, a.attribution_model, a.credit, a.touch_index, "
    "a.touch_count, a.touched_at, coalesce(d.closed_at, cast(? as timestamptz)) "
    "from marts.fct_deal_attribution as a "
    "join staging.stg_hubspot__deals as d on a.deal_id = d.hubspot_deal_id"
)


def _credits(path, as_of) -> dict[tuple[str, str, str], tuple[float, int, int, datetime, datetime]]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(CREDITS_SQL, [as_of]).fetchall()
    return {(r[0], r[1], r[2]): r[3:] for r in rows}


@pytest.fixture(scope="module")
def rerun_with_vars(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory):
    # same file name: DuckDB views keep the catalog name (the file's stem) in their SQL
    copy_dir = tmp_path_factory.mktemp("vars_copy")
    copy = copy_dir / built_warehouse.path.name
    shutil.copyfile(built_warehouse.path, copy)
    # also: a raw table dlt never created (no webhook yet) must not break staging
    with duckdb.connect(str(copy)) as con:
        con.execute("drop table raw_lms.webhook_events")
    # weight and half-life vars are resolved in int_attribution_models, which the marts read
    models = [
        "int_attribution_models",
        "fct_deal_attribution",
        "rev_etl__hubspot_deals",
        "stg_learnworlds__webhook_events",
    ]
    # staging is incremental: a full refresh rebuilds it from the raw tables as they are now
    result = run_dbt(
        ["run", "--full-refresh", "-s", *models, "--vars", json.dumps(NEW_VARS)],
        copy,
        copy_dir,
        built_warehouse.as_of,
    )
    assert result.returncode == 0, result.output[-3000:]
    return copy


def test_half_life_var_reweights_time_decay_by_its_formula(built_warehouse, rerun_with_vars):
    before = _credits(built_warehouse.path, built_warehouse.as_of)
    after = _credits(rerun_with_vars, built_warehouse.as_of)
    assert before.keys() == after.keys()
    decay = {k: v for k, v in after.items() if k[2] == "time_decay"}
    assert decay
    by_deal: dict[str, dict[str, float]] = {}
    for (deal, touch, _), (_, _, _, touched_at, anchor) in decay.items():
        age_days = (anchor - touched_at).total_seconds() / 86400
        by_deal.setdefault(deal, {})[touch] = 2 ** (-age_days / NEW_VARS["half_life_days"])
    changed = 0
    for (deal, touch, model), (credit, *_rest) in decay.items():
        weights = by_deal[deal]
        assert credit == pytest.approx(weights[touch] / sum(weights.values()), abs=1e-12)
        changed += abs(credit - before[(deal, touch, model)][0]) > 1e-6
    assert changed > 0


def test_u_shaped_weight_vars_move_first_and_last_credit(built_warehouse, rerun_with_vars):
    after = _credits(rerun_with_vars, built_warehouse.as_of)
    shaped = [(v[0], v[1], v[2]) for k, v in after.items() if k[2] == "u_shaped" and v[2] >= 3]
    assert shaped
    for credit, index, count in shaped:
        if index == 1:
            assert credit == pytest.approx(0.5)
        elif index == count:
            assert credit == pytest.approx(0.3)
        else:
            assert credit == pytest.approx(0.2 / (count - 2))


def test_default_model_var_changes_the_written_back_model(built_warehouse, rerun_with_vars):
    with duckdb.connect(str(rerun_with_vars), read_only=True) as con:
        models = {
            r[0]
            for r in con.execute(
                "select distinct lms_attribution_model from marts.rev_etl__hubspot_deals "
                "where lms_influenced"
            ).fetchall()
        }
    assert models == {"u_shaped"}
    before = {
        r[0]
        for r in built_warehouse.query(
            "select distinct lms_attribution_model from marts.rev_etl__hubspot_deals where lms_influenced"
        )
    }
    assert before == {"linear"}


def test_missing_raw_table_reads_as_empty_staging_view(rerun_with_vars):
    with duckdb.connect(str(rerun_with_vars), read_only=True) as con:
        rows = con.execute(
            "select count(*) from staging.stg_learnworlds__webhook_events"
        ).fetchone()
        columns = con.execute(
            "select count(*) from information_schema.columns "
            "where table_schema = 'staging' and table_name = 'stg_learnworlds__webhook_events'"
        ).fetchone()
    assert rows == (0,)
    assert columns[0] >= 20
