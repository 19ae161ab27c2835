"""Incremental builds give the marts a whole build gives on the same data.

The generated dataset lands in two dlt loads: first half of each LearnWorlds activity file
(enrollments, progress, grades, certificates, payments), then the other half plus a tenth of
the first half again (duplicate arrivals, which dlt merges under a new load id). Each load is
followed by a build; the marts must then equal those of `generated_warehouse`, the same
dataset landed at once and built whole (what `--full-refresh` does: is_incremental() false).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from extract.dataset_source import LMS_FILES, PIPELINES, land_dataset, lms_dataset_source
from extract.pipelines import run_source
from lmsbridge_core.settings import Settings
from tests.dbt.conftest import BuiltWarehouse
from tests.dbt.dbt_runner import run_dbt

ACTIVITY = ("enrollments", "user_progress", "grades", "certificates", "payments")
# When the rows were landed (wall clock), not what they say: differs between any two landings.
LANDING_TIME = {"data_quality_issues": "landed_at"}
# models and seeds only: the data tests run on the whole build of generated_warehouse
BUILD = ["build", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


def _split(source: Path, first: Path, second: Path) -> None:
    """Even lines to `first`, odd lines and every tenth line again to `second`."""
    lines = [line for line in source.read_text().splitlines() if line.strip()]
    first.write_text("".join(f"{line}\n" for i, line in enumerate(lines) if i % 2 == 0))
    second.write_text(
        "".join(f"{line}\n" for i, line in enumerate(lines) if i % 2 == 1 or i % 10 == 0)
    )


def _land_rest(rest: Path, warehouse: Path, as_of: datetime) -> None:
    """The second half as a later LearnWorlds load: activity tables only, merged by dlt."""
    settings = Settings(_env_file=None, warehouse_path=warehouse)
    with tempfile.TemporaryDirectory(prefix="lmsbridge-landing-") as landing:
        source = lms_dataset_source(rest, Path(landing), as_of.timestamp())
        run_source(
            settings,
            PIPELINES["raw_lms"],
            "raw_lms",
            source.with_resources(*ACTIVITY),
            None,
            loader_file_format="jsonl",
        )


def _marts(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = 'marts' order by 1",
        [catalog],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return int(con.execute(f"select count(*) from (from {relation})").fetchone()[0])


@pytest.fixture(scope="module")
def two_step_warehouse(generated_warehouse: BuiltWarehouse, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("incremental")
    first, rest = work / "first", work / "rest"
    shutil.copytree(generated_warehouse.dataset, first)
    (rest / "lms").mkdir(parents=True)
    for table in ACTIVITY:
        filename = LMS_FILES[table][0]
        _split(generated_warehouse.dataset / "lms" / filename, first / "lms" / filename,
               rest / "lms" / filename)  # fmt: skip
    warehouse = work / "lmsbridge.duckdb"
    as_of = datetime.fromisoformat(generated_warehouse.as_of)
    land_dataset(first, warehouse, as_of=as_of)
    first_build = run_dbt(BUILD, warehouse, work, generated_warehouse.as_of)
    assert first_build.returncode == 0, first_build.output[-3000:]
    _land_rest(rest, warehouse, as_of)
    second_build = run_dbt(BUILD, warehouse, work, generated_warehouse.as_of)
    assert second_build.returncode == 0, second_build.output[-3000:]
    return warehouse


def test_two_incremental_builds_equal_one_whole_build(
    two_step_warehouse: Path, generated_warehouse: BuiltWarehouse
) -> None:
    with duckdb.connect(str(two_step_warehouse), read_only=True) as con:
        con.execute(f"attach '{generated_warehouse.path}' as whole (read_only)")
        catalog = con.execute("select current_database()").fetchone()[0]
        marts = _marts(con, catalog)
        assert marts == _marts(con, "whole")
        assert "fct_learning_events" in marts
        differing = {}
        for mart in marts:
            columns = f"* exclude ({LANDING_TIME[mart]})" if mart in LANDING_TIME else "*"
            ours = f'(select {columns} from marts."{mart}")'
            theirs = f'(select {columns} from whole.marts."{mart}")'
            found = tuple(
                _count(con, sql)
                for sql in (ours, theirs, f"{ours} except all from {theirs}",
                            f"{theirs} except all from {ours}")
            )  # fmt: skip
            if found[0] != found[1] or found[2] or found[3]:
                differing[mart] = found
        events = _count(con, "marts.fct_learning_events")
    assert events > 0
    # (rows here, rows in the whole build, rows only here, rows only there)
    assert differing == {}


def test_second_build_recomputed_only_learners_with_new_activity(two_step_warehouse: Path) -> None:
    with duckdb.connect(str(two_step_warehouse), read_only=True) as con:
        changed = con.execute(
            "select count(*) from intermediate.int_learning_events_changed_learners"
        ).fetchone()[0]
        learners = con.execute("select count(*) from marts.dim_learners").fetchone()[0]
        watermark = con.execute(
            "select through_load_id from intermediate.int_learning_events_watermark"
        ).fetchone()[0]
        newest = con.execute("select max(_dlt_load_id) from raw_lms.enrollments").fetchone()[0]
    # the second load touched some learners, not all of them (half the activity lines)
    assert 0 < changed < learners
    assert watermark == newest
