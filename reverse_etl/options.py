"""Fill in enumeration options that a field reads from the warehouse (`options_from`).

The options of lms_attribution_model are the rows of marts.dim_attribution_models, which the
attribution_models seed owns. Reading them per run (as the marts are) means a new seed row
is a valid value locally and, after property setup adds it, in HubSpot too.
"""

from __future__ import annotations

import duckdb

from lmsbridge_core.warehouse import quote_name
from reverse_etl.config import FieldSpec, Option, OptionsFrom, Sync
from reverse_etl.results import SyncAborted
from reverse_etl.state import quoted_table


def read_options(con: duckdb.DuckDBPyConnection, source: OptionsFrom, prop: str) -> list[Option]:
    """The table's (value, label) rows as options, ordered by value; raises SyncAborted when
    the table is missing, empty or gives one value two labels."""
    value, label = quote_name(source.value), quote_name(source.label)
    sql = (
        f"select distinct cast({value} as varchar), cast({label} as varchar) "
        f"from {quoted_table(source.table)} where {value} is not null order by 1, 2"
    )
    try:
        rows = con.execute(sql).fetchall()
    except duckdb.CatalogException:
        raise SyncAborted(
            f"options of {prop!r} come from {source.table}({source.value}, {source.label}), "
            "which does not exist (run dbt build first, or fix options_from in the sync config)"
        ) from None
    except duckdb.BinderException:
        raise SyncAborted(
            f"options of {prop!r}: {source.table} has no column {source.value!r} or "
            f"{source.label!r} (fix options_from in the sync config)"
        ) from None
    if not rows:
        raise SyncAborted(
            f"options of {prop!r}: {source.table} has no rows, so every value would be invalid"
        )
    labels: dict[str, str] = {}
    for option_value, option_label in rows:
        if option_value in labels:
            raise SyncAborted(
                f"options of {prop!r}: value {option_value!r} has two labels in {source.table} "
                f"({labels[option_value]!r} and {option_label!r})"
            )
        # An empty label would be rejected by HubSpot; the value reads better than nothing.
        labels[option_value] = option_label or option_value
    return [Option(value=v, label=text) for v, text in labels.items()]


def resolve_options(con: duckdb.DuckDBPyConnection, sync: Sync) -> Sync:
    """The sync with every `options_from` field's `options` read from the warehouse."""
    if not any(f.options_from is not None for f in sync.fields.values()):
        return sync
    fields: dict[str, FieldSpec] = {}
    for column, spec in sync.fields.items():
        if spec.options_from is not None:
            options = tuple(read_options(con, spec.options_from, spec.property))
            # options_from stays: it is part of the fingerprint, as the read options are.
            spec = spec.model_copy(update={"options": options})
        fields[column] = spec
    return sync.model_copy(update={"fields": fields})
