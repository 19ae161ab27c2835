"""The raw warehouse schema (docs/contracts.md section 3): each source's table declarations,
by the dataset they land in. Every table is declared once, where its source uses it as dlt
hints: {table: {"primary_key", "columns", optional "nested": {child field: columns}}}."""

from __future__ import annotations

from typing import Any

from extract.csv_source import CSV_TABLES
from extract.hubspot_tables import HUBSPOT_TABLES
from extract.lms_tables import LMS_TABLES

RAW_SCHEMA: dict[str, dict[str, dict[str, Any]]] = {
    "raw_lms": LMS_TABLES,
    "raw_lms_files": CSV_TABLES,
    "raw_hubspot": HUBSPOT_TABLES,
}


def declared_columns(dataset: str) -> dict[str, dict[str, Any]]:
    """{table: {column: hint}} of a dataset, child tables named as dlt names them."""
    tables: dict[str, dict[str, Any]] = {}
    for table, declared in RAW_SCHEMA[dataset].items():
        tables[table] = dict(declared["columns"])
        for child, columns in (declared.get("nested") or {}).items():
            tables[f"{table}__{child}"] = dict(columns)
    return tables
