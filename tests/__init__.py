"""The test suite (`make test`): unit tests beside integration tests that run the real
emulators, DuckDB, dbt and Prefect. Nothing here reads outside the repository."""
