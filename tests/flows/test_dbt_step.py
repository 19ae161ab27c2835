"""Reading dbt's results: what counts as built, passed, failed; and the args we pass."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from flows.dbt_step import build_args, summarize
from lmsbridge_core.settings import Settings


def _node(kind: str, name: str, status: str, message: str = "") -> Any:
    return SimpleNamespace(
        node=SimpleNamespace(resource_type=kind, name=name), status=status, message=message
    )


def _result(*nodes: Any, success: bool = True) -> Any:
    return SimpleNamespace(
        success=success, result=SimpleNamespace(results=list(nodes)), exception=None
    )


def test_counts_models_tests_and_seeds() -> None:
    summary = summarize(
        _result(
            _node("model", "dim_learners", "success"),
            _node("model", "fct_learning_events", "success"),
            _node("seed", "course_rules", "success"),
            _node("test", "not_null_x", "pass"),
            _node("unit_test", "u", "pass"),
            _node("test", "warn_y", "warn"),
        )
    )
    assert (summary.models_built, summary.seeds_loaded) == (2, 1)
    assert (summary.tests_passed, summary.tests_warned, summary.tests_failed) == (2, 1, 0)
    assert summary.ok


def test_a_failed_test_is_a_failure_with_the_database_reason() -> None:
    summary = summarize(
        _result(
            _node("model", "m", "success"),
            _node("test", "unique_deal", "fail", "Got 2 results\nconfigured to fail if != 0"),
            _node("model", "downstream", "skipped"),
            success=False,
        )
    )
    assert not summary.ok
    assert summary.tests_failed == 1
    assert summary.skipped == 1
    assert summary.failures == [
        "test unique_deal: fail: Got 2 results / configured to fail if != 0"
    ]


def test_dbt_crash_before_any_node_is_a_failure() -> None:
    crashed = SimpleNamespace(success=False, result=None, exception=RuntimeError("parse error"))
    assert summarize(crashed).failures == ["parse error"]


@pytest.mark.parametrize("as_of", [None, datetime(2026, 1, 2, 3, 4, tzinfo=UTC)])
def test_as_of_becomes_a_dbt_var(as_of: datetime | None) -> None:
    args = build_args(Settings(as_of=as_of))
    if as_of is None:
        assert args == ["build"]
    else:
        assert args == ["build", "--vars", '{"as_of": "2026-01-02T03:04:00+00:00"}']
