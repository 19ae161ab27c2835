"""Spark spike (issue 16): raw DuckDB tables as Parquet, registered in a local Spark
metastore, so dbt-spark's `session` method can build the project (profiles_spark/)."""
