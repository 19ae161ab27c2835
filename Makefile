# Every target bootstraps uv (from the package index) and the locked deps first.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1
export DBT_SEND_ANONYMOUS_USAGE_STATS ?= false

.PHONY: setup demo test test-spark bench chaos sandbox lint

setup:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --user --quiet uv
	@$(UV) sync --frozen --quiet

demo: setup
	@$(UV) run --frozen python -m lmsbridge_demo

# pyspark and dbt-spark (group `spark`) for the Spark engine's tests; `make setup` leaves them out.
# The end-to-end Spark run (tests/flows/test_spark_engine.py, a JVM and ~450 Spark jobs: 5 min
# alone, 15 beside the suite on 2 cores) is `make test-spark`: inside `make test` it took CI past
# its 20 minutes. Java 17+ from the OS.
test: setup
	@$(UV) sync --frozen --quiet --group spark
	@$(UV) run --frozen pytest -n 2 --dist loadscope -q --durations=15 \
		--ignore tests/flows/test_spark_engine.py

test-spark: setup
	@$(UV) sync --frozen --quiet --group spark
	@$(UV) run --frozen pytest -q tests/flows/test_spark_engine.py

bench: setup
	@$(UV) sync --frozen --quiet --group spark
	@$(UV) run --frozen python -m bench

chaos: setup
	@$(UV) run --frozen python -m bench.chaos $(if $(LEARNERS),--learners $(LEARNERS),)

sandbox: setup
	@$(UV) run --frozen lmsbridge sandbox up $(if $(LEARNERS),--learners $(LEARNERS),)

# ruff, import-linter (the import rules of DESIGN.md, contracts in pyproject.toml), then
# sqlfluff: macros with the jinja templater (the dbt one skips macro files, see
# dbt_project/macros/.sqlfluff), models and singular tests with the dbt templater.
lint: setup
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen lint-imports --no-cache
	@$(UV) run --frozen sqlfluff lint dbt_project/macros --templater jinja
	@LMSBRIDGE_WAREHOUSE_PATH=:memory: $(UV) run --frozen sqlfluff lint dbt_project/models dbt_project/tests
