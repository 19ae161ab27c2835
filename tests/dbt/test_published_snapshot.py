"""The BI snapshot of a real dbt build: only the published schemas, every published mart
documented, every mart the `bi_snapshot` exposure names present.

Checks every mart generically (not a list), so a new mart or column without a dbt
description fails here rather than showing up blank in Metabase.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from flows.publish import SYNC_INPUT_VIEWS, publish_snapshot
from tests.dbt.conftest import BuiltWarehouse

EXPOSURES = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts" / "_exposures.yml"
)


def _publish(built: BuiltWarehouse, tmp_path: Path, *, include_raw: bool) -> Path:
    # A private copy: publishing opens the source read-write, and other workers read the
    # session's warehouse at the same time.
    source = tmp_path / "wh" / built.path.name
    source.parent.mkdir()
    shutil.copy(built.path, source)
    target = tmp_path / "published" / built.path.name
    publish_snapshot(source, target, include_raw=include_raw)
    return target


def _rows(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def snapshot(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _publish(built_warehouse, tmp_path_factory.mktemp("snapshot"), include_raw=False)


def test_snapshot_holds_every_mart_but_the_sync_inputs_and_nothing_else(
    built_warehouse: BuiltWarehouse, snapshot: Path
) -> None:
    marts = built_warehouse.query(
        "select table_name from duckdb_tables() where schema_name = 'marts' union all "
        "select view_name from duckdb_views() where schema_name = 'marts' and not internal"
    )
    published = _rows(snapshot, "select schema_name, table_name from duckdb_tables()")
    assert len(marts) > 10
    # The sync inputs are real marts of this build: leaving them out is the publish's doing.
    assert {name for (name,) in marts} >= SYNC_INPUT_VIEWS
    expected = [("marts", name) for (name,) in marts if name not in SYNC_INPUT_VIEWS]
    assert sorted(published) == sorted(expected)
    # Views became tables: a view would point at layers the snapshot does not hold.
    assert _rows(snapshot, "select count(*) from duckdb_views() where not internal") == [(0,)]


def test_snapshot_holds_what_the_bi_exposure_says_dashboards_read(snapshot: Path) -> None:
    exposures = yaml.safe_load(EXPOSURES.read_text())["exposures"]
    (bi,) = [e for e in exposures if e["name"] == "bi_snapshot"]
    read = {m.group(1) for ref in bi["depends_on"] if (m := re.fullmatch(r"ref\('(\w+)'\)", ref))}
    assert len(read) == len(bi["depends_on"])
    published = {name for (name,) in _rows(snapshot, "select table_name from duckdb_tables()")}
    assert len(read) >= 5
    assert read <= published


def test_every_mart_table_and_column_has_a_comment(snapshot: Path) -> None:
    tables = _rows(snapshot, "select table_name, comment from duckdb_tables()")
    assert tables
    assert [name for name, comment in tables if not (comment or "").strip()] == []
    columns = _rows(
        snapshot,
        "select table_name, column_name, comment from duckdb_columns() "
        "where schema_name = 'marts' order by all",
    )
    assert len(columns) > 100
    undocumented = [f"{t}.{c}" for t, c, comment in columns if not (comment or "").strip()]
    assert undocumented == [], "add a description to these columns in the mart's yml"


def test_mart_rows_match_the_warehouse(built_warehouse: BuiltWarehouse, snapshot: Path) -> None:
    for table in ("dim_learners", "fct_learning_events", "rev_etl__hubspot_contacts"):
        sql = f"select count(*) from marts.{table}"
        assert _rows(snapshot, sql) == built_warehouse.query(sql)


def test_publish_raw_adds_the_layers_but_never_dlt_internals(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    # The warehouse does have dlt's bookkeeping; the snapshot must leave it out.
    assert built_warehouse.query("select count(*) from duckdb_tables() where table_name like '\\_dlt\\_%' escape '\\'")[0][0] > 0  # fmt: skip
    assert built_warehouse.query("select count(*) from duckdb_tables() where schema_name like '%\\_staging' escape '\\'")[0][0] > 0  # fmt: skip
    snapshot = _publish(built_warehouse, tmp_path, include_raw=True)
    schemas = {s for (s,) in _rows(snapshot, "select distinct schema_name from duckdb_tables()")}
    assert {"marts", "staging", "intermediate", "raw_lms", "raw_hubspot"} <= schemas
    assert not [s for s in schemas if s.endswith("_staging")]
    dlt_tables = _rows(
        snapshot, "select table_name from duckdb_tables() where starts_with(table_name, '_dlt_')"
    )
    assert dlt_tables == []
    assert _rows(snapshot, "select count(*) from raw_lms.users") == built_warehouse.query(
        "select count(*) from raw_lms.users"
    )
    # Everything means everything: the sync inputs come along too.
    assert {("marts", name) for name in SYNC_INPUT_VIEWS} <= set(
        _rows(snapshot, "select schema_name, table_name from duckdb_tables()")
    )
