"""Orchestration: one pass of the pipeline, as plain Python or as Prefect flows.

`pipeline` (the steps in order, the direct run), `sync_flow` (the Prefect flows
`lmsbridge-sync` / `lmsbridge-full-resync`), `serve` (cron deployments), `dbt_step`,
`publish` (the BI snapshot), `ledger` (one run at a time, run history), `schedule_state` and
`notify` (pause on auth failure, alerts), `summary` (what a run did), `environment` (Prefect's
env and folder checks, applied at start), `progress` (the hook a front end installs to see
progress). It imports the product packages and `lmsbridge_core`, never the CLI
(`lmsbridge_cli`) or the demo (`lmsbridge_demo`).

Importing this package changes nothing: the CLI and `serve` set Prefect's environment at
start (`flows.environment.configure_prefect`), inside their error handling.
"""
