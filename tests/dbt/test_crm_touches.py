"""CRM touches (HubSpot calls, emails, meetings) in attribution, on the generated dataset:
with `include_crm_touches: false` the attribution marts are exactly those of a warehouse
without engagements; with it on (the default) a deal's credit is shared, and what the deals
sync writes (lms_attributed_amount) is the learning share only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.dbt.conftest import BuiltWarehouse
from tests.dbt.dbt_runner import run_dbt

MARTS = ("fct_deal_attribution", "rev_etl__hubspot_deals")
# Everything between the touches and the marts: the channel weights (markov, shapley) are fitted
# on the paths, and stale ones leave those models' credits null.
MODELS = [
    "int_deal_touchpoints",
    "int_attribution_paths",
    "int_attribution_channel_weights",
    *MARTS,
]


def _snapshot(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {
            mart: sorted(con.execute(f"select * from marts.{mart}").fetchall(), key=repr)
            for mart in MARTS
        }


@pytest.fixture(scope="module")
def switched_off(
    generated_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, list[tuple]], dict[str, list[tuple]]]:
    """(marts with the var off, marts with the var on over a warehouse without engagements)."""
    work = tmp_path_factory.mktemp("crm_touches")
    # same file name: DuckDB views keep the catalog name (the file's stem) in their SQL
    copy = work / generated_warehouse.path.name
    shutil.copyfile(generated_warehouse.path, copy)
    off = run_dbt(
        ["run", "-s", *MODELS, "--vars", json.dumps({"include_crm_touches": False})],
        copy,
        work,
        generated_warehouse.as_of,
    )
    assert off.returncode == 0, off.output[-3000:]
    var_off = _snapshot(copy)
    with duckdb.connect(str(copy)) as con:
        for kind in ("calls", "emails", "meetings"):
            con.execute(f"delete from raw_hubspot.{kind}")
    empty = run_dbt(["run", "-s", *MODELS], copy, work, generated_warehouse.as_of)
    assert empty.returncode == 0, empty.output[-3000:]
    return var_off, _snapshot(copy)


def test_switched_off_equals_a_warehouse_without_engagements(switched_off):
    var_off, no_engagements = switched_off
    assert var_off == no_engagements
    assert var_off["fct_deal_attribution"]  # not vacuous: learning touches are credited


def test_default_build_shares_credit_with_crm_touches(generated_warehouse, switched_off):
    var_off, _ = switched_off
    on = generated_warehouse.query(
        "select touch_source, count(*) from marts.fct_deal_attribution "
        "where attribution_model = 'linear' group by 1"
    )
    assert dict(on).keys() == {"learning", "crm"}
    # the learning share of each deal under the default model (linear) is what the sync writes
    mismatches = generated_warehouse.query(
        "select d.hubspot_deal_id from marts.rev_etl__hubspot_deals d left join ("
        "  select deal_id, round(sum(attributed_amount), 2) as amount, count(*) as touches"
        "  from marts.fct_deal_attribution"
        "  where touch_source = 'learning' and attribution_model = 'linear'"
        "  group by deal_id"
        ") a on a.deal_id = d.hubspot_deal_id "
        "where d.lms_touch_count <> coalesce(a.touches, 0) "
        "or abs(coalesce(d.lms_attributed_amount, 0) - coalesce(a.amount, 0)) > 0.011"
    )
    assert mismatches == []
    shared = generated_warehouse.query(
        "select count(*) from marts.rev_etl__hubspot_deals d "
        "join staging.stg_hubspot__deals s using (hubspot_deal_id) "
        "where d.lms_influenced and d.lms_attributed_amount < s.amount - 0.01"
    )[0][0]
    assert shared > 0  # learning no longer takes every influenced deal's whole amount
    off_amounts = {row[0]: row[7] for row in var_off["rev_etl__hubspot_deals"]}
    on_amounts = dict(
        generated_warehouse.query(
            "select hubspot_deal_id, lms_attributed_amount from marts.rev_etl__hubspot_deals"
        )
    )
    assert off_amounts.keys() == on_amounts.keys()
    assert any((on_amounts[d] or 0) < (off_amounts[d] or 0) for d in off_amounts)
