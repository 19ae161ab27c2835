"""Deployments: `lmsbridge-sync` on a cron schedule, `lmsbridge-full-resync` on demand, and
`lmsbridge-verify` on LMSBRIDGE_VERIFY_CRON when it is set."""

from __future__ import annotations

import logging
from typing import Any

from flows.environment import prefect_server_configured
from flows.schedule_state import load_state, resume
from lmsbridge_core.settings import Settings

log = logging.getLogger("lmsbridge.serve")

SYNC_DEPLOYMENT = "lmsbridge-sync/lmsbridge-sync"
VERIFY_DEPLOYMENT = "lmsbridge-verify/lmsbridge-verify"


def build_deployments(settings: Settings) -> list[Any]:
    from flows.sync_flow import full_resync_flow, sync_flow

    paused = load_state(settings).paused
    deployments = [
        sync_flow.to_deployment(
            name="lmsbridge-sync",
            cron=settings.schedule_cron,
            # A scheduled run that finds the previous one still going skips instead of
            # queueing, so a slow run never snowballs into a backlog.
            parameters={"wait_if_running": False},
            description="Incremental sync on LMSBRIDGE_SCHEDULE_CRON.",
            # Serving again after `lmsbridge resume` must also un-pause Prefect's copy.
            paused=paused,
            tags=["lmsbridge"],
        ),
        full_resync_flow.to_deployment(
            name="lmsbridge-full-resync",
            description="Re-extract and re-send everything; trigger by hand.",
            tags=["lmsbridge"],
        ),
    ]
    if settings.verify_cron is not None:
        from flows.verify_flow import verify_flow

        deployments.append(
            verify_flow.to_deployment(
                name="lmsbridge-verify",
                cron=settings.verify_cron,
                # Rare and cheap to wait for: it queues behind a sync in progress (one writer).
                parameters={"wait_if_running": True},
                description="Read back what lmsbridge manages in HubSpot on LMSBRIDGE_VERIFY_CRON.",
                paused=paused,
                tags=["lmsbridge"],
            )
        )
    return deployments


def serve_deployments(settings: Settings) -> None:
    """Blocks, running scheduled and triggered runs in this process (Ctrl-C stops)."""
    from prefect import serve

    from flows.sync_flow import mark_crashed_flow_runs

    # Runs killed while the previous `serve` ran would otherwise show RUNNING for good.
    mark_crashed_flow_runs(settings)
    state = load_state(settings)
    if state.paused:
        log.warning(
            "schedule is paused (%s); scheduled runs will skip until `lmsbridge resume`",
            state.reason,
        )
    serve(*build_deployments(settings))


def resume_schedule(settings: Settings) -> str:
    """Clear the pause flag and failure count, and resume the served deployment if known."""
    was = load_state(settings)
    resume(settings)
    message = "schedule resumed" if was.paused else "schedule was not paused; failure count reset"
    if not prefect_server_configured():
        # No Prefect server configured: starting a temporary one only to find nothing is
        # pointless; `lmsbridge serve` applies the flag when it registers the deployment.
        return message
    from prefect.client.orchestration import get_client

    for name in (SYNC_DEPLOYMENT, VERIFY_DEPLOYMENT):
        try:
            with get_client(sync_client=True) as client:
                deployment = client.read_deployment_by_name(name)
                if deployment.paused:
                    client.resume_deployment(deployment.id)
                    message += f"; Prefect deployment {name.split('/')[1]} resumed"
        except Exception as exc:  # no server or never served: the state file is what counts
            log.debug("no deployment %s to resume: %s", name, type(exc).__name__)
    return message
