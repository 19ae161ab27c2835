"""The dbt Python model int_attribution_channel_weights around lmsbridge_core.attribution_paths:
which paths it fits on, in which touch order, which it only credits, and the var it reads.

A Python model has no dbt unit tests, so this runs the one model with dbt against a warehouse
whose int_attribution_paths is a hand-made table (dbt reads whatever table the ref names).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.tiny_dataset import AS_OF

# (attribution_model, kind, deal_id, touch_index, channel, path_key, deal_outcome), rows
# deliberately out of touch order
PATHS = [
    # markov: the three paths of tests/core/test_attribution_paths.py (A->B->C converted,
    # A->C and B not): RE A 3/4, B 1/2, C 1
    ("mk", "markov", "d1", 2, "B", "A + B + C", "conversion"),
    ("mk", "markov", "d1", 3, "C", "A + B + C", "conversion"),
    ("mk", "markov", "d1", 1, "A", "A + B + C", "conversion"),
    ("mk", "markov", "d2", 2, "C", "A + C", "non_conversion"),
    ("mk", "markov", "d2", 1, "A", "A + C", "non_conversion"),
    ("mk", "markov", "d3", 1, "B", "B", "non_conversion"),
    # undecided: credited, not fitted (fitted either way, D->C would give D a share of
    # "C + D" and move every weight of "A + B + C")
    ("mk", "markov", "d4", 1, "D", "C + D", "undecided"),
    ("mk", "markov", "d4", 2, "C", "C + D", "undecided"),
    # shapley: v(A) = 1, v(AB) = 1, v(B) = 0
    ("sh", "shapley", "d1", 1, "A", "A", "conversion"),
    ("sh", "shapley", "d2", 1, "A", "A + B", "conversion"),
    ("sh", "shapley", "d2", 2, "B", "A + B", "conversion"),
    ("sh", "shapley", "d3", 1, "B", "B", "non_conversion"),
    ("sh", "shapley", "d5", 1, "A", "A + B + C", "undecided"),
    ("sh", "shapley", "d5", 2, "B", "A + B + C", "undecided"),
    ("sh", "shapley", "d5", 3, "C", "A + B + C", "undecided"),
    # position models have no channel weights
    ("lin", "linear", "d1", 1, "A", "A", "conversion"),
]


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> list[tuple]:
    work = tmp_path_factory.mktemp("channel_weights")
    warehouse = work / "lmsbridge.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema intermediate")
        con.execute(
            "create table intermediate.int_attribution_paths (attribution_model varchar, "
            "kind varchar, deal_id varchar, touch_index integer, channel varchar, "
            "path_key varchar, deal_outcome varchar)"
        )
        con.executemany(
            "insert into intermediate.int_attribution_paths values (?, ?, ?, ?, ?, ?, ?)", PATHS
        )
    result = run_dbt(
        [
            "run",
            "-s",
            "int_attribution_channel_weights",
            "--vars",
            json.dumps({"shapley_max_channels": 2}),
        ],
        warehouse,
        work,
        AS_OF,
    )
    assert result.returncode == 0, result.output[-3000:]
    return _rows(warehouse)


def _rows(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select attribution_model, path_key, channel, round(channel_weight, 12), method "
            "from intermediate.int_attribution_channel_weights order by all"
        ).fetchall()


def test_markov_fits_decided_paths_in_touch_order_and_credits_undecided(weights) -> None:
    # {A, B, C}: 3/4, 1/2, 1 over 9/4; {A, C}: 3/4 and 1 over 7/4; {C, D}: D never fitted
    assert [r for r in weights if r[0] == "mk"] == [
        ("mk", "A + B + C", "A", round(1 / 3, 12), "markov"),
        ("mk", "A + B + C", "B", round(2 / 9, 12), "markov"),
        ("mk", "A + B + C", "C", round(4 / 9, 12), "markov"),
        ("mk", "A + C", "A", round(3 / 7, 12), "markov"),
        ("mk", "A + C", "C", round(4 / 7, 12), "markov"),
        ("mk", "B", "B", 1.0, "markov"),
        ("mk", "C + D", "C", 1.0, "markov"),
        ("mk", "C + D", "D", 0.0, "markov"),
    ]


def test_shapley_reads_the_max_channels_var_and_ignores_position_models(weights) -> None:
    # {A, B}: phi_A = 1/2 (1 - 0) + 1/2 (1 - 0) = 1, phi_B = 1/2 (0) + 1/2 (1 - 1) = 0;
    # {B}: v(B) = 0, even split; {A, B, C}: 3 channels > shapley_max_channels 2
    third = round(1 / 3, 12)
    assert [r for r in weights if r[0] != "mk"] == [
        ("sh", "A", "A", 1.0, "shapley"),
        ("sh", "A + B", "A", 1.0, "shapley"),
        ("sh", "A + B", "B", 0.0, "shapley"),
        ("sh", "A + B + C", "A", third, "too_many_channels"),
        ("sh", "A + B + C", "B", third, "too_many_channels"),
        ("sh", "A + B + C", "C", third, "too_many_channels"),
        ("sh", "B", "B", 1.0, "even_fallback"),
    ]
