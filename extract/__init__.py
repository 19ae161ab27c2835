"""dlt extraction into the DuckDB warehouse: LearnWorlds API and webhooks, history CSVs, HubSpot.

Public surface: `run_lms`, `run_hubspot`, `run_csv` (each returns an `ExtractResult`) and the
webhook receiver in `extract.webhooks` (`create_app`, `serve`).
"""

from extract.pipelines import run_csv, run_hubspot, run_lms
from extract.result import ExtractError, ExtractResult

__all__ = ["ExtractError", "ExtractResult", "run_csv", "run_hubspot", "run_lms"]
