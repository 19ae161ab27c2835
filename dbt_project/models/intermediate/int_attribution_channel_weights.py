"""Channel weights of the data-driven attribution models (kind markov or shapley): one row per
(attribution_model, path_key, channel) of int_attribution_paths, weights summing to 1 per
(attribution_model, path_key). The math is lmsbridge_core.attribution_paths (pure Python,
unit-tested there); this model only reads the paths and writes the rows.

It runs on both engines: DuckDB (dbt-duckdb) and a Spark session (dbt-spark with the
`session` submission method of lmsbridge_core.spark_python_models).
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

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

# the same on Spark: structs sort by their first field, so the array is in touch order
SPARK_PATHS_SQL = """
    select
        attribution_model,
        first(kind) as kind,
        first(deal_outcome) as deal_outcome,
        first(path_key) as path_key,
        transform(
            array_sort(collect_list(struct(touch_index, channel))), touch -> touch.channel
        ) as channels
    from paths
    where kind in ('markov', 'shapley')
    group by attribution_model, deal_id
    order by attribution_model, deal_id
"""
SPARK_SCHEMA = ", ".join(
    f"{name} {'double' if kind == 'DOUBLE' else 'string'}" for name, kind in COLUMN_TYPES.items()
)


class FitInputs(NamedTuple):
    kinds: dict[str, str]
    fit_paths: dict[str, list[ConversionPath]]
    path_channels: dict[str, dict[str, list[str]]]


def fit_inputs(deals: Sequence[tuple[str, str, str, str, Sequence[str]]]) -> FitInputs:
    """What the math needs, from one (model, kind, outcome, path_key, channels) row per deal
    (the rows can be dropped after: the weights are computed from this alone)."""
    inputs = FitInputs({}, defaultdict(list), defaultdict(dict))
    for attribution_model, kind, outcome, path_key, channels in deals:
        inputs.kinds[attribution_model] = kind
        if outcome in FIT_OUTCOMES:
            inputs.fit_paths[attribution_model].append((list(channels), FIT_OUTCOMES[outcome]))
        # path_key is the sorted distinct channels joined by ' + ': the same set for every
        # deal of a key, taken from the channels rather than by splitting the key
        inputs.path_channels[attribution_model].setdefault(path_key, sorted(set(channels)))
    return inputs


def weight_rows(inputs: FitInputs, max_channels: int) -> Iterator[tuple[str, str, str, float, str]]:
    """(attribution_model, path_key, channel, channel_weight, method) for every path key."""
    for attribution_model, kind in sorted(inputs.kinds.items()):
        for row in channel_weight_rows(
            kind,  # type: ignore[arg-type]  # the SQL keeps only markov and shapley
            inputs.fit_paths[attribution_model],
            inputs.path_channels[attribution_model],
            max_channels,
        ):
            yield attribution_model, row.path_key, row.channel, row.weight, row.method


def model(dbt: Any, session: Any) -> Any:
    max_channels = int(dbt.config.meta_get("shapley_max_channels"))
    if type(session).__module__.startswith("pyspark"):
        # a Spark session: the paths come back as Rows; the weights go out as a DataFrame
        dbt.ref("int_attribution_paths").createOrReplaceTempView("paths")
        inputs = fit_inputs([tuple(r) for r in session.sql(SPARK_PATHS_SQL).collect()])
        return session.createDataFrame(list(weight_rows(inputs, max_channels)), SPARK_SCHEMA)

    inputs = fit_inputs(dbt.ref("int_attribution_paths").query("paths", PATHS_SQL).fetchall())
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
            for attribution_model, path_key, channel, weight, method in weight_rows(
                inputs, max_channels
            ):
                writer.writerow((attribution_model, path_key, channel, repr(weight), method))
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
