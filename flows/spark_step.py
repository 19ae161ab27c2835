"""The dbt build on Spark (LMSBRIDGE_ENGINE=spark), around the same `dbt build` as DuckDB's.

    raw tables (DuckDB, landed by dlt) -> Parquet lake -> Spark tables -> dbt build on Spark
        -> marts as Parquet -> marts schema of the warehouse file (reverse ETL, BI)

Everything runs in this process: the SparkSession started here is the one dbt-spark's
`session` method picks up, so the raw tables registered here are what dbt's sources read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from lmsbridge_core import lake
from lmsbridge_core.settings import Settings
from lmsbridge_core.spark_engine import SparkConfig

log = logging.getLogger(__name__)

# what the reverse ETL and the BI snapshot read of dbt's output
IMPORTED_SCHEMAS = ("marts",)


def spark_config(settings: Settings) -> SparkConfig:
    return SparkConfig(
        home=settings.spark_home,
        master=settings.spark_master,
        driver_memory=settings.spark_driver_memory,
        file_format=settings.spark_file_format,
        packages=settings.spark_packages,
    )


def full_refresh_needed(settings: Settings) -> bool:
    """Plain Parquet tables have no MERGE or DELETE: every build there rebuilds every table."""
    return settings.engine == "spark" and settings.spark_file_format == "parquet"


@contextmanager
def spark_build(settings: Settings) -> Iterator[None]:
    """The raw tables as Spark tables for the dbt build run inside; the marts it built into
    the warehouse file after (not after a failed build: the reverse ETL does not run then,
    and BI keeps the last good marts)."""
    from lmsbridge_core import spark_engine

    config = spark_config(settings)
    counts = lake.export_raw(settings.warehouse_path, config.lake)
    log.info("spark: %s raw tables, %s rows -> %s", len(counts), sum(counts.values()), config.lake)
    with spark_engine.spark_session(config) as spark:
        spark_engine.register_raw(spark, config.lake)
        yield
        built = config.home / "built"
        spark_engine.export_built(spark, built, IMPORTED_SCHEMAS)
    imported = lake.import_built(settings.warehouse_path, built, IMPORTED_SCHEMAS)
    log.info("spark: %s marts, %s rows imported", len(imported), sum(imported.values()))
