"""An analyst's change, end to end: one seed row adds a model variant, one var makes it the
model written to deals, and a real pipeline run against the emulators carries it through
dbt (fct_deal_attribution, the reconciliation mart) to the HubSpot deals and the options
of their lms_attribution_model property. docs/attribution.md section 8 is this recipe."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from flows.pipeline import run_direct
from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess
from tests.dbt.dbt_runner import copy_project

VARIANT = "u_shaped_60d"
ROW = f"{VARIANT},U-shaped 30/40/30 over 60 days,u_shaped,0.3,0.3,0.4,,,,60,,,,"
DEFAULT_LINE = "default_attribution_model: linear"


def analyst_project(root: Path) -> Path:
    """The shipped dbt project plus one seed row and the default model switched to it."""
    project = copy_project(root)
    seed = project / "seeds" / "attribution_models.csv"
    seed.write_text(seed.read_text(encoding="utf-8").rstrip("\n") + f"\n{ROW}\n", "utf-8")
    config = project / "dbt_project.yml"
    text = config.read_text(encoding="utf-8")
    assert text.count(DEFAULT_LINE) == 1, "the default model var moved: update this test"
    config.write_text(text.replace(DEFAULT_LINE, f"default_attribution_model: {VARIANT}"))
    return project


def query(sql: str) -> list[tuple[Any, ...]]:
    # dbt ran in this process and DuckDB keeps its instance: connect the same way (read-write)
    with duckdb.connect(os.environ["LMSBRIDGE_WAREHOUSE_PATH"]) as con:
        return con.execute(sql).fetchall()


def hubspot(sandbox: SandboxProcess, path: str, **params: Any) -> Any:
    headers = {"Authorization": f"Bearer {sandbox.hubspot_token}"}
    with httpx.Client(base_url=sandbox.hubspot_url, headers=headers, timeout=30) as client:
        response = client.get(path, params=params)
        response.raise_for_status()
        return response.json()


def hubspot_deals(sandbox: SandboxProcess) -> dict[str, dict[str, Any]]:
    params: dict[str, Any] = {
        "limit": 100,
        "properties": "lms_attribution_model,lms_attributed_amount",
    }
    found: dict[str, dict[str, Any]] = {}
    while True:
        body = hubspot(sandbox, "/crm/v3/objects/deals", **params)
        found |= {d["id"]: d["properties"] for d in body["results"]}
        after = body.get("paging", {}).get("next", {}).get("after")
        if not after:
            return found
        params["after"] = after


def test_one_seed_row_and_one_var_reach_the_marts_and_hubspot(
    cli_env: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMSBRIDGE_DBT_PROJECT_DIR", str(analyst_project(tmp_path)))
    summary = run_direct(Settings())
    syncs = {s.name: s for s in summary.syncs}
    assert syncs["deals"].status == "ok", syncs["deals"].error

    # The variant is published with its parameters and as the default.
    [published] = query(
        "select kind, first_weight, last_weight, middle_weight, lookback_days, is_default "
        f"from marts.dim_attribution_models where attribution_model = '{VARIANT}'"
    )
    assert published == ("u_shaped", 0.3, 0.3, 0.4, 60, True)

    # Its credits follow 0.3 / 0.4 split over the middle / 0.3 on every deal with >= 3 touches.
    rows = query(
        "select deal_id, touch_index, touch_count, credit from marts.fct_deal_attribution "
        f"where attribution_model = '{VARIANT}' order by deal_id, touch_index"
    )
    by_deal: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
    for deal_id, index, count, credit in rows:
        by_deal[deal_id].append((index, count, credit))
    long_paths = {d: touches for d, touches in by_deal.items() if touches[0][1] >= 3}
    assert long_paths, f"no deal with >= 3 touches within 60 days: {dict(by_deal)}"
    for touches in long_paths.values():
        n = touches[0][1]
        expected = [0.3] + [0.4 / (n - 2)] * (n - 2) + [0.3]
        assert [c for _, _, c in touches] == pytest.approx(expected, abs=1e-12)

    # Every deal reconciles under the variant (or is told apart as untouched / amountless).
    statuses = dict(
        query(
            "select status, count(*) from marts.fct_attribution_reconciliation "
            f"where attribution_model = '{VARIANT}' group by status"
        )
    )
    assert statuses.get("reconciled", 0) >= 1 and "credits_do_not_sum" not in statuses

    # HubSpot: the property offers the new option, and each influenced deal carries the
    # variant and its learning share (what lms_attributed_amount reports) of the mart's sum.
    prop = hubspot(cli_env, "/crm/v3/properties/deals/lms_attribution_model")
    assert VARIANT in [o["value"] for o in prop["options"]]
    expected_amounts = dict(
        query(
            "select deal_id, round(sum(attributed_amount), 2) from marts.fct_deal_attribution "
            f"where attribution_model = '{VARIANT}' and touch_source = 'learning' group by deal_id"
        )
    )
    assert expected_amounts
    deals = hubspot_deals(cli_env)
    for deal_id, amount in expected_amounts.items():
        props = deals[deal_id]
        assert props["lms_attribution_model"] == VARIANT, deal_id
        if amount is None:
            assert props.get("lms_attributed_amount") in (None, ""), deal_id
        else:
            assert float(props["lms_attributed_amount"]) == pytest.approx(amount, abs=0.005)
