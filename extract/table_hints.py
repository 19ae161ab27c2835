"""dlt hints from a table declaration (extract.lms_tables, extract.hubspot_tables, CSV_TABLES)."""

from __future__ import annotations

from typing import Any


def nested_hints(declared: dict[str, Any]) -> dict[str, Any] | None:
    """dlt `nested_hints` for the declared child tables, None when there are none."""
    nested = declared.get("nested")
    if not nested:
        return None
    # Unlike top-level `columns`, dlt does not fill in the names of nested hint columns.
    return {
        child: {"columns": {name: {**hint, "name": name} for name, hint in columns.items()}}
        for child, columns in nested.items()
    }
