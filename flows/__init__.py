"""Orchestration for lmsbridge: Prefect flows, deployments, the `lmsbridge` CLI and the demo.

Public surface: `flows.sync_flow.sync_flow` / `full_resync_flow` (the two Prefect flows),
`flows.cli.app` (the console script), `flows.publish.publish_snapshot`,
`flows.report.write_report`.
"""

import os
from pathlib import Path

# Prefect reads these when it is imported, so they must be set before anything imports it:
# a cold ephemeral server needs the longer start-up timeout, and nothing may phone home.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
# Prefect's database and logs live beside the warehouse, not in ~/.prefect.
_warehouse = Path(os.environ.get("LMSBRIDGE_WAREHOUSE_PATH", "warehouse/lmsbridge.duckdb"))
os.environ.setdefault("PREFECT_HOME", str(_warehouse.resolve().parent / ".prefect"))
# Prefect creates only the last path component; the warehouse folder may not exist yet.
Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
