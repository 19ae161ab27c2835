"""LMSBRIDGE_ENGINE=spark end to end (issue 16): the same sandbox, one `lmsbridge run` with
DuckDB and one with the dbt project built on a local Spark session, must build the same marts
and leave HubSpot in the same state.

Needs the `spark` dependency group and Java 17+: `make test-spark` (about 5 minutes alone on
2 cores, so `make test` leaves it out).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from bench.chaos import VOLATILE_MART_COLUMNS
from bench.spark.compare import compare
from flows.dbt_step import invocation, summarize
from flows.pipeline import run_direct
from flows.spark_step import spark_build
from lmsbridge_core.settings import Settings
from sandbox.runner import SandboxProcess

# written by HubSpot itself at write time, or ids it assigns: they differ between two runs
VOLATILE = (
    "lastmodifieddate", "createdate", "hs_object_id", "hs_created", "hs_updated",
    "hs_lifecyclestage_", "hs_date_entered_", "hs_date_exited_", "hs_v2_date_",
)  # fmt: skip
# HubSpot's key for records our upserts create (their ids differ between runs)
KEYS = {"contacts": "email", "deals": None, "tasks": "lms_task_key", "notes": "lms_activity_key"}


def hubspot_state(sandbox: SandboxProcess) -> dict[str, dict[str, list[dict[str, Any]]]]:
    state: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for object_type, key in KEYS.items():
        body = sandbox.control_get("hubspot", "state", {"object": object_type})
        grouped: dict[str, list[dict[str, Any]]] = {}
        for record in body["records"]:
            props = record.get("properties") or {}
            ident = str(props.get(key) or record["id"]) if key else str(record["id"])
            kept = {k: v for k, v in sorted(props.items()) if not any(x in k for x in VOLATILE)}
            grouped.setdefault(ident, []).append({"archived": record.get("archived"), **kept})
        state[object_type] = grouped
    return state


def marts_of(warehouse: Path) -> dict[str, int]:
    # read-write: the runs' dbt in this process keeps the file open in that mode
    with duckdb.connect(str(warehouse)) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        return {
            name: con.execute(f'select count(*) from marts."{name}"').fetchone()[0]  # type: ignore[index]
            for (name,) in tables
        }


def test_a_spark_run_builds_the_same_marts_and_leaves_hubspot_as_a_duckdb_run(
    cli_env: SandboxProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of = datetime.now(UTC).replace(second=0, microsecond=0).isoformat()
    monkeypatch.setenv("LMSBRIDGE_AS_OF", as_of)

    duck = tmp_path / "duck" / "lmsbridge.duckdb"
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(duck))
    duck_summary = run_direct(Settings())
    assert all(s.status == "ok" for s in duck_summary.syncs), duck_summary.syncs
    duck_hubspot = hubspot_state(cli_env)

    cli_env.reload()  # HubSpot and LearnWorlds as they were before the DuckDB run
    spark = tmp_path / "spark" / "lmsbridge.duckdb"
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(spark))
    monkeypatch.setenv("LMSBRIDGE_ENGINE", "spark")
    # one core for tasks: the JVM's own JIT and GC threads keep the other busy (the data is
    # tiny; Spark's jobs here are latency-bound)
    monkeypatch.setenv("LMSBRIDGE_SPARK_MASTER", "local[1]")
    spark_summary = run_direct(Settings())
    assert all(s.status == "ok" for s in spark_summary.syncs), spark_summary.syncs
    # the same models and data tests ran on Spark, plus one not_null_constraints test per
    # contracted model: DuckDB enforces not-null constraints as it builds, Spark on parquet
    # only records them
    assert spark_summary.dbt is not None and duck_summary.dbt is not None
    assert spark_summary.dbt.models_built == duck_summary.dbt.models_built
    contracted = constrained_model_count(duck.parent / "dbt")
    assert contracted >= 10
    assert spark_summary.dbt.tests_passed == duck_summary.dbt.tests_passed + contracted

    # the marts: the same tables, rows and values (doubles to 6 decimals: time-decay credits
    # differ in the last bits between engines), but for when each run read its sources
    assert marts_of(spark) == marts_of(duck)
    built = spark.parent / "spark" / "built"
    diffs = compare(duck, built, read_only=False, exclude=VOLATILE_MART_COLUMNS)
    assert {d.relation for d in diffs} == {f"marts.{name}" for name in marts_of(duck)}
    assert [d for d in diffs if not d.same] == []

    # HubSpot: every record the same, none missing, none duplicated
    spark_hubspot = hubspot_state(cli_env)
    found = differences(duck_hubspot, spark_hubspot)
    assert not found, "\n".join(found)

    # the unit tests (scheduled runs skip them; `lmsbridge build --full` runs them) pass on
    # Spark too, every one of them (`dbt build` selects none when only unit tests are asked for)
    settings = Settings()
    with spark_build(settings):
        unit = summarize(invocation(settings).invoke(["test", "--select", "test_type:unit"]))
    assert unit.tests_passed == unit_test_count(duck.parent / "dbt") >= 50
    assert unit.tests_failed == 0 and unit.models_built == 0


def manifest_of(dbt_work_dir: Path) -> dict[str, Any]:
    """The manifest dbt wrote for the DuckDB run."""
    return json.loads((dbt_work_dir / "target" / "manifest.json").read_text())  # type: ignore[no-any-return]


def constrained_model_count(dbt_work_dir: Path) -> int:
    """Models with a not-null constraint, as dbt parsed them for the DuckDB run."""
    return sum(
        1
        for node in manifest_of(dbt_work_dir)["nodes"].values()
        if node["resource_type"] == "model"
        and any(
            c["type"] == "not_null"
            for column in node["columns"].values()
            for c in column.get("constraints", [])
        )
    )


def unit_test_count(dbt_work_dir: Path) -> int:
    """The project's unit tests, as dbt parsed them for the DuckDB run."""
    return len(manifest_of(dbt_work_dir)["unit_tests"])


def differences(
    want: dict[str, dict[str, list[dict[str, Any]]]],
    got: dict[str, dict[str, list[dict[str, Any]]]],
) -> list[str]:
    """Each record missing, duplicated or with another value, as 'type key: property a != b'."""
    found = []
    for object_type, records in want.items():
        have = got[object_type]
        for key in sorted(records.keys() | have.keys()):
            a, b = records.get(key, []), have.get(key, [])
            if len(a) != 1 or len(b) != 1:
                found.append(f"{object_type} {key}: {len(a)} record(s) != {len(b)}")
                continue
            for prop in sorted(a[0].keys() | b[0].keys()):
                if a[0].get(prop) != b[0].get(prop):
                    found.append(
                        f"{object_type} {key}: {prop} {a[0].get(prop)!r} != {b[0].get(prop)!r}"
                    )
    return found
