"""The Spark engine's comparison with DuckDB (docs/spark.md): bench.spark.compare diffs the
marts a Spark build exported (lmsbridge_core.spark_engine.export_built) against a DuckDB
build of the same data."""
