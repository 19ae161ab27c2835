"""Channel weights of the data-driven attribution models (kind markov or shapley): one row per
(attribution_model, path_key, channel) of int_attribution_paths, weights summing to 1 per
(attribution_model, path_key). The math is lmsbridge_core.attribution_paths (pure Python,
unit-tested there); this model only reads the paths and writes the rows.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb

from lmsbridge_core.attribution_paths import ConversionPath, channel_weight_rows

# decided deals fit the weights; undecided ones are only credited with them
FIT_OUTCOMES = {"conversion": True, "non_conversion": False}
ROWS_TABLE = "int_attribution_channel_weights__rows"
COLUMN_TYPES = {
    "attribution_model": "VARCHAR",
    "path_key": "VARCHAR",
    "channel": "VARCHAR",
    "channel_weight": "DOUBLE",
    "method": "VARCHAR",
}

# one row per (model, deal): its kept channels in touch order
PATHS_SQL = """
    select
        attribution_model,
        any_value(kind) as kind,
        any_value(deal_outcome) as deal_outcome,
        any_value(path_key) as path_key,
        list(channel order by touch_index) as channels
    from paths
    where kind in ('markov', 'shapley')
    group by attribution_model, deal_id
    order by attribution_model, deal_id
"""


def model(dbt: Any, session: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    max_channels = int(dbt.config.meta_get("shapley_max_channels"))
    deals = dbt.ref("int_attribution_paths").query("paths", PATHS_SQL).fetchall()

    kinds: dict[str, str] = {}
    fit_paths: dict[str, list[ConversionPath]] = defaultdict(list)
    path_channels: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for attribution_model, kind, outcome, path_key, channels in deals:
        kinds[attribution_model] = kind
        if outcome in FIT_OUTCOMES:
            fit_paths[attribution_model].append((channels, FIT_OUTCOMES[outcome]))
        # path_key is the sorted distinct channels joined by ' + ': the same set for every
        # deal of a key, taken from the channels rather than by splitting the key
        path_channels[attribution_model].setdefault(path_key, sorted(set(channels)))

    del deals  # the fit paths keep what they need; the rest is not held through the math

    # The rows go through a CSV file, written as they are computed: DuckDB converts Python
    # parameters value by value, retrying an import of numpy for each one (at 1M learners
    # that was 300 s, 95% of this model), and a file keeps the 10^6 rows out of Python's
    # heap. repr writes each weight in its shortest round-trip form, so it arrives exact.
    # The table is temporary, so nothing but the model's own table persists; dbt-duckdb
    # materializes the returned relation on this same connection.
    with tempfile.TemporaryDirectory(prefix="lmsbridge-weights-") as tmp:
        path = Path(tmp) / "weights.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMN_TYPES)
            for attribution_model, kind in sorted(kinds.items()):
                for row in channel_weight_rows(
                    kind,  # type: ignore[arg-type]  # the SQL keeps only markov and shapley
                    fit_paths[attribution_model],
                    path_channels[attribution_model],
                    max_channels,
                ):
                    writer.writerow(
                        (attribution_model, row.path_key, row.channel, repr(row.weight), row.method)
                    )
        session.execute(
            f"""
            create or replace temp table {ROWS_TABLE} as
            select * from read_csv(
                ?, header = true, quote = '"', escape = '"', columns = ?
            )
            """,
            [str(path), COLUMN_TYPES],
        )
    return session.sql(f"select * from {ROWS_TABLE} order by attribution_model, path_key, channel")
