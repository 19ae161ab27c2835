"""The dbt sources describe what the extract lands: checked against a dataset landed by dlt.

Each raw table is declared once, as the dlt hints of its extract source (extract.raw_schema);
the `__sources.yml` files say what dbt reads. A column dbt declares must exist in the landed
table and in the declaration, with the type dbt expects, and every declared table must be a
dbt source, so neither side can drift from the other unnoticed.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Any

import duckdb
import pytest
import yaml

from extract.dataset_source import land_dataset
from extract.raw_schema import RAW_SCHEMA, declared_columns
from lmsbridge_core.dbt_invocation import PROJECT_DIR
from tests.dbt.conftest import generate_dataset
from tests.dbt.tiny_dataset import AS_OF, write_tiny_dataset

# dlt data type -> the DuckDB type it lands as (what the yml's data_type names)
DLT_TO_DUCKDB = {
    "text": "varchar",
    "double": "double",
    "bool": "boolean",
    "bigint": "bigint",
    "timestamp": "timestamptz",
    "date": "date",
}
DUCKDB_NAMES = {"timestamp with time zone": "timestamptz"}

# Declared raw tables dbt does not read, and why.
NOT_DBT_SOURCES = {
    "raw_hubspot.properties": "property definitions are kept for operators; no model reads them",
}


def _dbt_sources() -> dict[str, dict[str, dict[str, str | None]]]:
    """{source schema: {table: {column: data_type or None}}} from every __sources.yml."""
    sources: dict[str, dict[str, dict[str, str | None]]] = {}
    for path in sorted((PROJECT_DIR / "models").rglob("__sources.yml")):
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            tables = sources.setdefault(source.get("schema", source["name"]), {})
            for table in source.get("tables", []):
                tables[table["name"]] = {
                    c["name"]: c.get("data_type") for c in table.get("columns", [])
                }
    return sources


def _type(name: str) -> str:
    name = name.lower()
    return DUCKDB_NAMES.get(name, name)


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, str]]]:
    """{schema: {table: {column: DuckDB type}}} of a small generated dataset landed by dlt.

    The generator writes no webhook bodies and no 404s; the tiny dataset's are added so
    webhook_events and user_not_found land too.
    """
    root = tmp_path_factory.mktemp("raw_schema")
    dataset = generate_dataset(root / "dataset", 50, 7, AS_OF)
    tiny = write_tiny_dataset(root / "tiny")
    for name in ("webhooks.jsonl", "user_not_found.jsonl"):
        shutil.copy(tiny / "lms" / name, dataset / "lms" / name)
    warehouse = root / "lmsbridge.duckdb"
    land_dataset(dataset, warehouse, as_of=datetime.fromisoformat(AS_OF.replace("Z", "+00:00")))
    tables: dict[str, dict[str, dict[str, str]]] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_schema like 'raw_%'"
        ).fetchall()
    for schema, table, column, data_type in rows:
        tables.setdefault(schema, {}).setdefault(table, {})[column] = _type(data_type)
    return tables


def _drift(
    dbt: dict[str, dict[str, dict[str, str | None]]], landed: dict[str, Any]
) -> dict[tuple[str, str, str], str]:
    """Every disagreement of a yml column with the landed table or the declaration."""
    problems: dict[tuple[str, str, str], str] = {}
    for schema, tables in dbt.items():
        declared = declared_columns(schema) if schema in RAW_SCHEMA else {}
        for table, columns in tables.items():
            have = landed.get(schema, {}).get(table)
            for column, data_type in columns.items():
                key = (schema, table, column)
                where = f"{schema}.{table}.{column}"
                if have is None:
                    problems[key] = f"{where}: dlt landed no table {schema}.{table}"
                    continue
                if column not in have:
                    problems[key] = f"{where}: not in the landed table (has {sorted(have)})"
                    continue
                if data_type and _type(data_type) != have[column]:
                    problems[key] = f"{where}: the yml says {data_type}, dlt landed {have[column]}"
                    continue
                if column.startswith("_dlt_"):
                    continue  # dlt's own columns, not declared by a source
                hint = declared.get(table, {}).get(column)
                if hint is None:
                    problems[key] = f"{where}: not declared in extract's table hints"
                elif data_type and DLT_TO_DUCKDB[hint["data_type"]] != _type(data_type):
                    problems[key] = (
                        f"{where}: the yml says {data_type}, extract declares {hint['data_type']}"
                    )
    return problems


def test_every_dbt_source_column_is_landed_and_declared(landed: dict[str, Any]) -> None:
    dbt = _dbt_sources()
    assert set(dbt) == set(RAW_SCHEMA), "dbt sources and extract's raw datasets differ"
    problems = _drift(dbt, landed)
    assert not problems, "dbt sources disagree with the raw schema:\n" + "\n".join(
        text for _, text in sorted(problems.items())
    )


def test_every_declared_raw_table_is_a_dbt_source(landed: dict[str, Any]) -> None:
    dbt = _dbt_sources()
    missing = []
    for schema in RAW_SCHEMA:
        for table in declared_columns(schema):
            name = f"{schema}.{table}"
            is_source = table in dbt.get(schema, {})
            if name in NOT_DBT_SOURCES:
                assert not is_source, f"{name} is a dbt source now: drop it from NOT_DBT_SOURCES"
            elif not is_source:
                missing.append(name)
            assert table in landed.get(schema, {}), f"{name} is declared but dlt landed no table"
    assert not missing, f"declared raw tables with no dbt source: {missing}"
