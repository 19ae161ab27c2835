"""The project's own generic data tests, run by dbt against a small model made for them."""

from __future__ import annotations

from pathlib import Path

from lmsbridge_core.dbt_invocation import DbtInvocation
from tests.dbt.dbt_runner import copy_project

PROBE_SQL = """{{ config(materialized='view') }}
select * from (values
    ('a', 'x', 'u1'),
    ('a', 'y', {{ missing }}),
    ('b', 'x', 'u2'),
    ('b', 'x', 'u2'),
    ('c', 'x', 'u3')
) as t (learner_key, lms_field, lms_user_id)
"""

PROBE_YML = """version: 2
models:
- name: key_probe
  data_tests:
  - unique_combination:
      arguments:
        columns: [learner_key, lms_field]
        not_null: [learner_key, lms_user_id, lms_field]
  - not_null_columns:
      arguments:
        columns: [lms_field, lms_user_id]
"""


def probe(tmp_path: Path, missing: str) -> tuple[int, dict[str, int], str]:
    """Build the probe view (its second row's lms_user_id is `missing`) and its test: the
    exit code, the test's failing row count, dbt's output."""
    project = copy_project(tmp_path)
    models = project / "models" / "probe"
    models.mkdir()
    (models / "key_probe.sql").write_text(PROBE_SQL.replace("{{ missing }}", missing))
    (models / "key_probe.yml").write_text(PROBE_YML)
    result = DbtInvocation(
        tmp_path / "probe.duckdb", tmp_path, "2026-06-01T00:00:00Z", project_dir=project
    ).run(["build", "--select", "key_probe", "--exclude-resource-type", "unit_test"])
    failures = {
        r["unique_id"].split(".")[2]: int(r["failures"] or 0)
        for r in result.run_results.get("results", [])
        if r["unique_id"].startswith("test.")
    }
    return result.returncode, failures, result.output


def by_test(failures: dict[str, int]) -> dict[str, int]:
    return {name.split("_key_probe")[0]: count for name, count in failures.items()}


def test_generic_tests_count_duplicate_keys_and_nulls_in_one_pass(tmp_path: Path) -> None:
    code, failures, output = probe(tmp_path, "null")
    assert code != 0, output[-3000:]
    # the duplicated key (b, x) and the key whose row has a null (a, y); the row with the null
    assert by_test(failures) == {"unique_combination": 2, "not_null_columns": 1}, output[-3000:]


def test_without_nulls_only_the_duplicate_key_fails(tmp_path: Path) -> None:
    code, failures, output = probe(tmp_path, "'u9'")
    assert code != 0, output[-3000:]
    assert by_test(failures) == {"unique_combination": 1, "not_null_columns": 0}, output[-3000:]
