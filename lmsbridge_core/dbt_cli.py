"""dbt's command line for child processes, with what this project adds to its adapters
(`lmsbridge_core.spark_python_models` when dbt-spark is installed).

    python -m lmsbridge_core.dbt_cli build --project-dir ... --target spark
"""

from __future__ import annotations

import importlib.util


def main() -> None:
    if importlib.util.find_spec("dbt.adapters.spark") is not None:
        from lmsbridge_core import spark_python_models

        spark_python_models.enable()
    from dbt.cli.main import cli

    cli()


if __name__ == "__main__":
    main()
