"""Reading dbt's results: what counts as built, passed, failed; the args we pass; and the
one lean `dbt build` of a pipeline run."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from flows.dbt_step import build_command, invocation, summarize
from flows.pipeline import DirectRunner, run_pipeline
from flows.summary import RunSummary
from lmsbridge_core.dbt_invocation import DbtInvocation
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
def test_as_of_reaches_dbt_through_the_environment(as_of: datetime | None) -> None:
    dbt = invocation(Settings(as_of=as_of))
    env = dbt.child_env()
    if as_of is None:
        assert "LMSBRIDGE_AS_OF" not in dbt.env()
    else:
        assert env["LMSBRIDGE_AS_OF"] == "2026-01-02T03:04:00+00:00"
    assert env["LMSBRIDGE_WAREHOUSE_PATH"] == str(Settings().warehouse_path.resolve())
    # target and logs beside the warehouse, never inside the shared project directory
    args = dbt.args(build_command("marts"))
    assert args[:3] == ["build", "--select", "marts"]
    target = args[args.index("--target-path") + 1]
    assert target == str(Settings().warehouse_path.resolve().parent / "dbt" / "target")


def test_in_process_environment_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSBRIDGE_AS_OF", "2020-01-01T00:00:00+00:00")
    monkeypatch.delenv("LMSBRIDGE_WAREHOUSE_PATH", raising=False)
    dbt = invocation(Settings(as_of=None))
    with dbt.environment():
        # an unset as_of must not inherit a stale one from the caller's environment
        assert "LMSBRIDGE_AS_OF" not in os.environ
        assert os.environ["LMSBRIDGE_WAREHOUSE_PATH"].endswith(".duckdb")
    assert os.environ["LMSBRIDGE_AS_OF"] == "2020-01-01T00:00:00+00:00"
    assert "LMSBRIDGE_WAREHOUSE_PATH" not in os.environ


def test_build_command_skips_unit_tests_unless_asked() -> None:
    lean = build_command("marts")
    assert lean[:3] == ["build", "--select", "marts"]
    assert lean[lean.index("--exclude-resource-type") + 1] == "unit_test"
    assert "--exclude-resource-type" not in build_command(unit_tests=True)


class _StubbedSteps(DirectRunner):
    """The direct runner with every step but dbt stubbed (no extract, publish or sync)."""

    def run(self, name: str, fn: Any, *args: Any, retry: bool = True) -> Any:
        return [] if name == "reverse-etl" else SimpleNamespace(path="snapshot.duckdb")

    def run_concurrently(self, steps: Any) -> list[Any]:
        return []


def test_a_pipeline_run_invokes_dbt_once_without_unit_tests(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def invoke(self: DbtInvocation, command: list[str], **_: Any) -> Any:
        calls.append(list(command))
        return _result(_node("model", "m", "success"), _node("test", "t", "pass"))

    monkeypatch.setattr(DbtInvocation, "invoke", invoke)
    settings = Settings(warehouse_path=tmp_path / "lmsbridge.duckdb")
    summary = RunSummary(flow="lmsbridge-sync")
    run_pipeline(settings, summary, _StubbedSteps())
    assert calls == [build_command()]
    assert "unit_test" in calls[0]  # excluded: the scheduled build skips them
    assert summary.dbt is not None and summary.dbt.tests_passed == 1
