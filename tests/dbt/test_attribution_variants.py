"""An analyst adds an attribution model with one seed row (README "Attribution models: one
seed row each"): on the generated warehouse, two variant rows get their own window, weights,
channel, transform and steps, and every other model keeps its credits."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from lmsbridge_core.dbt_invocation import DbtInvocation
from tests.dbt.conftest import BuiltWarehouse
from tests.dbt.dbt_runner import copy_project

U_60 = "u_shaped_60d"
FIRST_BY_CATEGORY = "first_by_category"
NEW_ROWS = (
    f"{U_60},U-shaped 30/40/30 over 60 days,u_shaped,0.3,0.3,0.4,,,,60,,,,\n"
    f"{FIRST_BY_CATEGORY},First touch of each category,linear,,,,,,,,3,first,,course_category\n"
)
MODELS = [
    "attribution_models",
    "int_attribution_models",
    "int_attribution_paths",
    "fct_deal_attribution",
    "dim_attribution_models",
]
CREDITS = "select deal_id, touchpoint_id, attribution_model, credit from marts.fct_deal_attribution"
PATHS = (
    "select deal_id, touchpoint_id, touched_at, anchor_at, touch_index, touch_count, channel "
    "from intermediate.int_attribution_paths where attribution_model = ? "
    "order by deal_id, touch_index"
)


def _query(path: Path, sql: str, *params: object) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def _by_deal(rows: list[tuple]) -> dict[str, list[tuple]]:
    deals: dict[str, list[tuple]] = {}
    for row in rows:
        deals.setdefault(row[0], []).append(row)
    return deals


@pytest.fixture(scope="module")
def with_variants(
    generated_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    work = tmp_path_factory.mktemp("attribution_variants")
    project = copy_project(work)
    with (project / "seeds" / "attribution_models.csv").open("a", encoding="utf-8") as seed:
        seed.write(NEW_ROWS)
    # same file name: DuckDB views keep the catalog name (the file's stem) in their SQL
    warehouse = work / generated_warehouse.path.name
    shutil.copyfile(generated_warehouse.path, warehouse)
    # cautious: only the data tests of the rebuilt nodes (not those of marts built from them);
    # their unit tests do not depend on the seed
    command = ["build", "--select", *MODELS, "--indirect-selection", "cautious"]
    command += ["--exclude-resource-type", "unit_test"]
    build = DbtInvocation(warehouse, work, generated_warehouse.as_of, project_dir=project).run(
        command
    )
    assert build.returncode == 0, build.output[-4000:]
    return warehouse


def test_variant_rows_leave_every_other_model_as_it_was(generated_warehouse, with_variants):
    before = set(generated_warehouse.query(CREDITS))
    after = set(_query(with_variants, CREDITS))
    assert before
    assert {row for row in after if row[2] not in (U_60, FIRST_BY_CATEGORY)} == before


def test_u_shaped_variant_has_its_window_and_weights(generated_warehouse, with_variants):
    default_paths = _by_deal(generated_warehouse.query(PATHS.replace("?", "'u_shaped'")))
    variant_paths = _by_deal(_query(with_variants, PATHS, U_60))
    credits = {
        (deal, touch): credit
        for deal, touch, model, credit in _query(with_variants, CREDITS)
        if model == U_60
    }
    shortened = 0
    for deal, touches in default_paths.items():
        anchor = touches[0][3]
        expected = [t[1] for t in touches if t[2] >= anchor - timedelta(days=60)]
        kept = [t[1] for t in variant_paths.get(deal, [])]
        assert kept == expected, deal
        shortened += len(kept) < len(touches)
        n = len(kept)
        for index, touch in enumerate(kept, 1):
            if n <= 2:
                weight = 1.0 / n
            elif index in (1, n):
                weight = 0.3
            else:
                weight = 0.4 / (n - 2)
            assert credits[(deal, touch)] == pytest.approx(weight, abs=1e-12), (deal, touch)
    assert shortened > 0  # not vacuous: some deals have touches 60 to 90 days before close
    assert _query(
        with_variants,
        "select first_weight, last_weight, middle_weight, lookback_days, is_default "
        "from marts.dim_attribution_models where attribution_model = ?",
        U_60,
    ) == [(0.3, 0.3, 0.4, 60, False)]


def test_first_by_category_keeps_each_categorys_first_touch_at_most_three(with_variants):
    paths = _by_deal(_query(with_variants, PATHS, FIRST_BY_CATEGORY))
    categories = {
        course: category or "uncategorized"
        for course, category in _query(
            with_variants, "select course_id, category from intermediate.int_course_rules_resolved"
        )
    }
    touch_channels = dict(
        _query(
            with_variants,
            "select touchpoint_id, coalesce(course_id, event_type) "
            "from intermediate.int_deal_touchpoints",
        )
    )
    assert paths
    for deal, touches in paths.items():
        channels = [t[6] for t in touches]
        assert len(channels) == len(set(channels)) <= 3, deal
        assert [t[4] for t in touches] == list(range(1, len(touches) + 1))
        for touch in touches:
            course_or_type = touch_channels[touch[1]]
            assert touch[6] == categories.get(course_or_type, course_or_type), touch
    assert any(len(touches) == 3 for touches in paths.values())
