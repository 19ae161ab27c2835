"""Reverse ETL: write mart rows back to HubSpot, changed rows only, batched, exactly once.

Public surface: `run_syncs` (docs/contracts.md section 5), its `SyncRunResult`, the plan
types for dry runs, and the config loader. Everything else is private to the package.
"""

from reverse_etl.config import SyncConfigError, SyncFile, load_config
from reverse_etl.plan import SyncPlan
from reverse_etl.runner import SyncRunResult, run_syncs

__all__ = ["SyncConfigError", "SyncFile", "SyncPlan", "SyncRunResult", "load_config", "run_syncs"]
