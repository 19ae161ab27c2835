"""dbt Python models on a local Spark session (the `session` method of dbt-spark).

dbt-spark submits Python models only to Databricks (a notebook job or a cluster command), so
on a local session or a Thrift server a Python model fails with "Submission method ... is not
supported". With the session method, the SparkSession lives in this process (dbt-spark gets
it with `getOrCreate()`), so a model's compiled code can simply run here, against that
session: that is all the `session` submission method added below does. A model opts in with
`submission_method: session` (int_attribution_channel_weights does, on Spark targets).

Call `enable()` before invoking dbt in this process (DbtInvocation does it for the spark
target); a dbt child process gets it from `python -m lmsbridge_core.dbt_cli`.
"""

from __future__ import annotations

from typing import Any

SUBMISSION_METHOD = "session"


def _session_job_helper() -> type:
    from dbt.adapters.base import PythonJobHelper

    class SessionPythonJobHelper(PythonJobHelper):  # type: ignore[misc]
        """Runs the compiled model (its code plus dbt's write of the returned DataFrame)
        against the session dbt itself uses: the active one, or the one the profile builds."""

        def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
            self.identifier = str(parsed_model.get("alias") or parsed_model.get("name"))

        def submit(self, compiled_code: str) -> None:
            from pyspark.sql import SparkSession

            spark = SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
            code = compile(compiled_code, f"<dbt python model {self.identifier}>", "exec")
            # the generated code reads the session as the global `spark`
            exec(code, {"spark": spark, "__name__": f"dbt_model_{self.identifier}"})

    return SessionPythonJobHelper


def enable() -> None:
    """Add the `session` submission method to dbt-spark's adapter (idempotent)."""
    from dbt.adapters.spark.impl import SparkAdapter

    current = SparkAdapter.python_submission_helpers
    if getattr(current.fget, "lmsbridge_session", False):
        return
    helper = _session_job_helper()

    def helpers(adapter: Any) -> dict[str, type]:
        return {**current.fget(adapter), SUBMISSION_METHOD: helper}

    helpers.lmsbridge_session = True  # type: ignore[attr-defined]
    SparkAdapter.python_submission_helpers = property(helpers)  # type: ignore[method-assign,assignment]
