"""One pipeline run publishes the BI snapshot exactly once, after its syncs, whatever they did;
and a run whose build inputs are unchanged skips the build.

The pipeline's own control flow (`run_pipeline`) with the extract, dbt and reverse ETL steps
stubbed and the publish step real, on the hand-made warehouse.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.dbt_step import DbtSummary
from flows.pipeline import SYNC_FLOW, run_pipeline
from flows.summary import RunSummary, render_markdown
from lmsbridge_core.errors import BuildFailed, ConfigurationError, SyncFailed
from lmsbridge_core.settings import Settings
from tests.flows.handmade import make_warehouse


class _Sync:
    name = "contacts"
    status = "ok"
    sent = rejected = calls = 0


class _StubRunner:
    """Records the steps in order; `reverse-etl` and `dbt` do what the test says."""

    def __init__(
        self,
        sync: Callable[[], list[Any]] = lambda: [_Sync()],
        dbt: Callable[[], DbtSummary] = DbtSummary,
        publish_fails: bool = False,
    ) -> None:
        self.steps: list[str] = []
        self.sync = sync
        self.dbt = dbt
        self.publish_fails = publish_fails

    def run(self, name: str, fn: Callable[..., Any], *args: Any, retry: bool = True) -> Any:
        self.steps.append(name)
        if name == "reverse-etl":
            return self.sync()
        if name == "publish-snapshot" and self.publish_fails:
            raise duckdb.IOException("disk full")
        return fn(*args)

    def run_concurrently(self, steps: Any) -> list[Any]:
        self.steps.append("extract")
        return []

    def dbt_build(self, settings: Settings) -> DbtSummary:
        self.steps.append("dbt")
        return self.dbt()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    warehouse = make_warehouse(tmp_path / "wh" / "lmsbridge.duckdb")
    return Settings(_env_file=None, warehouse_path=warehouse)


def _sync_failed() -> list[Any]:
    error = SyncFailed("sync contacts: 400")
    error.results = [_Sync()]  # type: ignore[attr-defined]
    raise error


def test_a_run_publishes_once_after_its_syncs(settings: Settings) -> None:
    runner = _StubRunner()
    summary = RunSummary(flow=SYNC_FLOW)
    run_pipeline(settings, summary, runner)
    assert runner.steps == ["extract", "dbt", "reverse-etl", "publish-snapshot"]
    assert summary.published_path == str(settings.published_warehouse_path.resolve())
    assert settings.published_warehouse_path.exists()


@pytest.mark.parametrize(
    ("sync", "error"),
    [(_sync_failed, SyncFailed), (lambda: [][0], IndexError)],
    ids=["sync-failed", "sync-crashed"],
)
def test_a_failed_sync_still_publishes_the_tested_marts_once(
    settings: Settings, sync: Callable[[], list[Any]], error: type[Exception]
) -> None:
    runner = _StubRunner(sync=sync)
    summary = RunSummary(flow=SYNC_FLOW)
    with pytest.raises(error):
        run_pipeline(settings, summary, runner)
    assert runner.steps.count("publish-snapshot") == 1
    assert runner.steps[-1] == "publish-snapshot"
    assert summary.published_path is not None
    if error is SyncFailed:
        assert [s.name for s in summary.syncs] == ["contacts"]


def test_a_failed_publish_does_not_hide_the_sync_error(settings: Settings) -> None:
    def config_error() -> list[Any]:
        raise ConfigurationError("syncs.yml: unknown property")

    runner = _StubRunner(sync=config_error, publish_fails=True)
    summary = RunSummary(flow=SYNC_FLOW)
    with pytest.raises(ConfigurationError, match=r"syncs\.yml"):
        run_pipeline(settings, summary, runner)
    assert runner.steps.count("publish-snapshot") == 1
    assert summary.published_path is None


def test_a_failed_publish_after_good_syncs_fails_the_run(settings: Settings) -> None:
    runner = _StubRunner(publish_fails=True)
    with pytest.raises(duckdb.IOException, match="disk full"):
        run_pipeline(settings, RunSummary(flow=SYNC_FLOW), runner)
    assert runner.steps == ["extract", "dbt", "reverse-etl", "publish-snapshot"]


def test_a_failed_build_publishes_nothing(settings: Settings) -> None:
    def failed_build() -> DbtSummary:
        raise BuildFailed("1 test failed")

    runner = _StubRunner(dbt=failed_build)
    with pytest.raises(BuildFailed):
        run_pipeline(settings, RunSummary(flow=SYNC_FLOW), runner)
    assert runner.steps == ["extract", "dbt"]
    assert not settings.published_warehouse_path.exists()


def test_a_run_with_nothing_new_reuses_the_last_build(settings: Settings) -> None:
    """The pipeline's wiring of flows/build_inputs: a second run with the same inputs skips
    dbt (and says so), a changed raw row or a full resync builds again."""
    first, again = _StubRunner(), _StubRunner()
    run_pipeline(settings, RunSummary(flow=SYNC_FLOW), first)
    summary = RunSummary(flow=SYNC_FLOW)
    run_pipeline(settings, summary, again)
    assert first.steps[1] == "dbt"
    assert again.steps == ["extract", "reverse-etl", "publish-snapshot"]
    assert summary.dbt is not None and summary.dbt.reused_build_at
    summary.syncs = []
    assert "dbt build skipped: inputs unchanged since the build at" in render_markdown(summary)

    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists raw_lms")
        con.execute("create table raw_lms.grades (id varchar, grade double)")
        con.execute("insert into raw_lms.grades values ('g1', 80)")
    changed = _StubRunner()
    run_pipeline(settings, RunSummary(flow=SYNC_FLOW), changed)
    resync = _StubRunner()
    run_pipeline(settings, RunSummary(flow=SYNC_FLOW, full=True), resync)
    assert "dbt" in changed.steps and "dbt" in resync.steps
