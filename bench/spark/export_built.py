"""Write every relation dbt built on Spark in the given schemas to Parquet (views included),
so bench.spark.compare can diff it against the DuckDB build of the same data.

    LMSBRIDGE_SPARK_DIR=... python -m bench.spark.export_built OUT_DIR [SCHEMA ...]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench.spark.register_raw import spark_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("schemas", nargs="*", default=["intermediate", "marts"])
    args = parser.parse_args()
    spark = spark_session(Path(os.environ["LMSBRIDGE_SPARK_DIR"]).resolve())
    try:
        for schema in args.schemas:
            for row in spark.sql(f"show tables in {schema}").collect():
                spark.table(f"{schema}.{row.tableName}").write.mode("overwrite").parquet(
                    str(args.out / schema / row.tableName)
                )
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
