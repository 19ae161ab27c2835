"""The Spark engine's session, raw tables and built tables (LMSBRIDGE_ENGINE=spark).

One SparkSession per process: started here with the settings of profiles.yml's `spark`
output, so dbt-spark's `getOrCreate()` (method: session) builds on this same session, and the
raw tables registered here are the ones dbt's sources name. Needs the `spark` dependency
group (pyspark) and a Java 17+ runtime.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lmsbridge_core.errors import ConfigurationError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class SparkConfig:
    home: Path
    master: str = "local[*]"
    driver_memory: str = "2g"
    file_format: str = "parquet"
    packages: str | None = None

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    def env(self) -> tuple[tuple[str, str], ...]:
        """What profiles.yml and dbt_project.yml read for the spark target."""
        pairs = {
            "LMSBRIDGE_SPARK_DIR": str(self.home.resolve()),
            "LMSBRIDGE_SPARK_MASTER": self.master,
            "LMSBRIDGE_SPARK_DRIVER_MEMORY": self.driver_memory,
            "LMSBRIDGE_SPARK_FILE_FORMAT": self.file_format,
        }
        return tuple(pairs.items())

    def conf(self) -> dict[str, str]:
        """The session's settings: profiles.yml's `spark` output, plus Parquet instants that
        DuckDB reads back as UTC instants (TIMESTAMP_MICROS marks them adjusted to UTC)."""
        home = self.home.resolve()
        conf = {
            "spark.sql.warehouse.dir": str(home / "spark-warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={home}/metastore_db;create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={home}",
            "spark.sql.session.timeZone": "UTC",
            "spark.driver.memory": self.driver_memory,
            "spark.sql.shuffle.partitions": "4",
            "spark.ui.enabled": "false",
            # no progress bars over the run's own output
            "spark.ui.showConsoleProgress": "false",
            "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        }
        if self.packages:
            conf["spark.jars.packages"] = self.packages
        return conf


def _builder() -> type:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ConfigurationError(
            "LMSBRIDGE_ENGINE=spark needs pyspark and dbt-spark: uv sync --group spark"
        ) from None
    if shutil.which("java") is None:
        raise ConfigurationError(
            "LMSBRIDGE_ENGINE=spark needs a Java runtime (17 or newer) on PATH or in JAVA_HOME"
        )
    return SparkSession


@contextmanager
def spark_session(config: SparkConfig) -> Iterator[SparkSession]:
    """This process's session, started with `config` (the JVM stays up until the process ends:
    starting it costs seconds, so later runs in a long-lived process reuse it)."""
    session_class = _builder()
    config.home.mkdir(parents=True, exist_ok=True)
    builder = session_class.builder.master(config.master).enableHiveSupport()
    for key, value in config.conf().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # dbt-spark asks for the session once per statement, and Spark warns each time that the
    # existing one is reused; the run's own log says what happened
    spark.sparkContext.setLogLevel("ERROR")
    yield spark


def register_raw(spark: SparkSession, lake: Path) -> list[str]:
    """One external Parquet table per lake folder, in a database named like the DuckDB schema.
    Tables are re-created each time: a table dlt widened has new columns, and Spark caches a
    table's file list."""
    registered = []
    for schema_dir in sorted(p for p in lake.iterdir() if p.is_dir()):
        spark.sql(f"create database if not exists `{schema_dir.name}`")
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
            name = f"`{schema_dir.name}`.`{table_dir.name}`"
            spark.sql(f"drop table if exists {name}")
            spark.sql(f"create table {name} using parquet location '{table_dir.resolve()}'")
            registered.append(f"{schema_dir.name}.{table_dir.name}")
    return registered


def export_built(spark: SparkSession, out: Path, schemas: Iterable[str]) -> list[str]:
    """Every relation (tables and views) of `schemas` as `<out>/<schema>/<table>/*.parquet`."""
    shutil.rmtree(out, ignore_errors=True)
    written = []
    for schema in schemas:
        for row in spark.sql(f"show tables in `{schema}`").collect():
            if row.isTemporary:
                continue
            spark.table(f"`{schema}`.`{row.tableName}`").write.mode("overwrite").parquet(
                str(out / schema / row.tableName)
            )
            written.append(f"{schema}.{row.tableName}")
    return written
