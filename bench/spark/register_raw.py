"""Register exported raw Parquet (bench.spark.export_raw) as tables in the local Spark
metastore that profiles_spark/profiles.yml points dbt at.

Runs in an environment with pyspark (not the project's: see bench/spark/README.md).

    LMSBRIDGE_SPARK_DIR=... python -m bench.spark.register_raw PARQUET_DIR
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from pyspark.sql import SparkSession


def spark_session(spark_dir: Path) -> SparkSession:
    """The same metastore and warehouse settings as the dbt profile."""
    return (
        SparkSession.builder.master("local[2]")
        .enableHiveSupport()
        .config("spark.sql.warehouse.dir", str(spark_dir / "spark-warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true",
        )
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )


def register_raw(spark: SparkSession, parquet_dir: Path) -> list[str]:
    """One external table per file, in a database named like the DuckDB schema."""
    registered = []
    for schema_dir in sorted(p for p in parquet_dir.iterdir() if p.is_dir()):
        spark.sql(f"create database if not exists {schema_dir.name}")
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
            name = f"{schema_dir.name}.{table_dir.name}"
            spark.sql(f"drop table if exists {name}")
            spark.sql(f"create table {name} using parquet location '{table_dir.resolve()}'")
            registered.append(name)
    return registered


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parquet_dir", type=Path)
    args = parser.parse_args()
    spark = spark_session(Path(os.environ["LMSBRIDGE_SPARK_DIR"]).resolve())
    try:
        names = register_raw(spark, args.parquet_dir)
    finally:
        spark.stop()
    print(f"{len(names)} raw tables registered")


if __name__ == "__main__":
    main()
