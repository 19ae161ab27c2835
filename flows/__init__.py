"""Orchestration for lmsbridge: the pipeline, its Prefect flows, the `lmsbridge` CLI, the demo.

Public surface: `flows.pipeline.run_direct` (one pass without Prefect),
`flows.sync_flow.sync_flow` / `full_resync_flow` (the two Prefect flows), `flows.cli.app`
(the console script), `flows.publish.publish_snapshot`, `flows.report.write_report`.

Importing this package changes nothing: the CLI and `serve` set Prefect's environment at
start (flows.environment), inside their error handling.
"""
