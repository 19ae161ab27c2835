"""A scheduled run reuses the last build only when nothing a build reads has changed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from flows.build_inputs import build_if_changed, fingerprint, record, reusable
from lmsbridge_core.dbt_invocation import PROJECT_DIR
from lmsbridge_core.settings import Settings

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
RAW = """
create schema raw_lms;
create table raw_lms.users (id varchar, email varchar, _dlt_load_id varchar, _dlt_id varchar);
insert into raw_lms.users values ('u1', 'a@x.io', '1.0', 'r1'), ('u2', null, '1.0', 'r2');
create table raw_lms._dlt_loads (load_id varchar, status int);
"""


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A warehouse with raw tables as dlt lands them, and a copy of the dbt project."""
    project = tmp_path / "dbt_project"
    shutil.copytree(PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(RAW)
    monkeypatch.delenv("LMSBRIDGE_TASK_MAX_AGE_DAYS", raising=False)
    return Settings(
        _env_file=None,
        warehouse_path=warehouse,
        dbt_project_dir=project,
        as_of=AS_OF,
    )


def _sql(settings: Settings, statement: str) -> None:
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(statement)


def test_the_fingerprint_follows_what_a_build_reads(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = fingerprint(settings)
    assert fingerprint(settings) == base

    # a row's content
    _sql(settings, "update raw_lms.users set email = 'b@x.io' where id = 'u1'")
    assert fingerprint(settings) != base
    _sql(settings, "update raw_lms.users set email = 'a@x.io' where id = 'u1'")
    assert fingerprint(settings) == base
    # a row landed again unchanged by a later load, and dlt's own tables: not an input
    _sql(settings, "update raw_lms.users set _dlt_load_id = '2.0', _dlt_id = 'r9'")
    _sql(settings, "insert into raw_lms._dlt_loads values ('2.0', 0)")
    assert fingerprint(settings) == base
    # a duplicate row is a change
    _sql(settings, "insert into raw_lms.users values ('u2', null, '3.0', 'r3')")
    duplicated = fingerprint(settings)
    assert duplicated != base
    _sql(settings, "delete from raw_lms.users where _dlt_id = 'r3'")

    # a variable the project reads, and only those
    monkeypatch.setenv("LMSBRIDGE_SOMETHING_ELSE", "1")
    assert fingerprint(settings) == base
    monkeypatch.setenv("LMSBRIDGE_TASK_MAX_AGE_DAYS", "3")
    assert fingerprint(settings) != base
    monkeypatch.delenv("LMSBRIDGE_TASK_MAX_AGE_DAYS")

    # the pinned clock
    later = settings.model_copy(update={"as_of": datetime(2026, 6, 2, tzinfo=UTC)})
    assert fingerprint(later) != base

    # a project file (a seed an analyst edits), and not dbt's own output
    project = settings.dbt_project_dir
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    assert fingerprint(settings) == base
    seed = next((project / "seeds").rglob("*.csv"))
    seed.write_text(seed.read_text() + "\n")
    assert fingerprint(settings) != base


def test_a_build_is_reused_only_when_fresh_and_the_same(settings: Settings) -> None:
    digest = fingerprint(settings)
    assert reusable(settings, digest) is None  # never built
    record(settings, digest, built_at=1_000.0)
    assert reusable(settings, digest, now=10**9) is not None  # pinned clock: age is no matter
    assert reusable(settings, "other", now=1_001.0) is None

    clock = settings.model_copy(update={"as_of": None, "build_reuse_minutes": 60})
    assert reusable(clock, digest, now=1_001.0) is None  # recorded with a pinned clock
    record(clock, digest, built_at=1_000.0)
    assert reusable(clock, digest, now=1_000.0 + 59 * 60) is not None
    assert reusable(clock, digest, now=1_000.0 + 61 * 60) is None  # time rules have moved
    assert reusable(clock, digest, now=900.0) is None  # the clock went back
    never = clock.model_copy(update={"build_reuse_minutes": 0})
    assert reusable(never, digest, now=1_001.0) is None


def test_a_failed_build_is_not_reused(settings: Settings) -> None:
    builds: list[str] = []

    def failing() -> str:
        builds.append("failed")
        raise RuntimeError("dbt build failed")

    def passing() -> str:
        builds.append("built")
        return "built"

    with pytest.raises(RuntimeError):
        build_if_changed(settings, failing, reused=lambda last: "reused")
    assert build_if_changed(settings, passing, reused=lambda last: "reused") == "built"
    assert build_if_changed(settings, passing, reused=lambda last: "reused") == "reused"
    assert build_if_changed(settings, passing, reused=lambda last: "reused", always=True) == "built"
    _sql(settings, "insert into raw_lms.users values ('u3', 'c@x.io', '4.0', 'r4')")
    assert build_if_changed(settings, passing, reused=lambda last: "reused") == "built"
    assert builds == ["failed", "built", "built", "built"]


def test_a_warehouse_that_cannot_be_fingerprinted_still_builds(tmp_path: Path) -> None:
    """Bookkeeping never fails a run: no fingerprint, no reuse, a build every time."""
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(b"not a database file " * 1000)
    settings = Settings(_env_file=None, warehouse_path=broken, as_of=AS_OF)
    for _ in range(2):
        assert build_if_changed(settings, lambda: "built", reused=lambda last: "reused") == "built"
