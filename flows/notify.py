"""Failure hook: tell a webhook, and pause the schedule after auth failures or a failure streak."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from flows.schedule_state import ScheduleState, record_failure
from lmsbridge_core.errors import AuthenticationError, classify
from lmsbridge_core.redaction import redact
from lmsbridge_core.settings import Settings, load_settings

log = logging.getLogger("lmsbridge.notify")


def failure_payload(
    flow_name: str, flow_run: Any, error: str, state: ScheduleState
) -> dict[str, Any]:
    """The small JSON posted on failure: names and counts only, never settings or secrets."""
    return {
        "event": "lmsbridge.run_failed",
        "flow": flow_name,
        "flow_run_id": str(getattr(flow_run, "id", "")),
        "flow_run_name": getattr(flow_run, "name", None),
        "error": error[:1000],
        "consecutive_failures": state.consecutive_failures,
        "schedule_paused": state.paused,
        "pause_reason": state.reason,
    }


def handle_failure(
    settings: Settings, flow_name: str, flow_run: Any, exc: BaseException | None, message: str
) -> ScheduleState:
    """Record the failure, maybe pause, and notify. Never raises: a hook must not mask the
    run's own error."""
    error = redact(
        f"{type(exc).__name__}: {exc}" if exc is not None else message, settings.secrets()
    )
    state = record_failure(
        settings,
        error,
        auth_failure=exc is not None and isinstance(classify(exc), AuthenticationError),
    )
    if state.paused:
        log.error("lmsbridge schedule paused: %s", state.reason)
        _pause_deployment(flow_run)
    if settings.failure_webhook_url is not None:
        try:
            httpx.post(
                str(settings.failure_webhook_url),
                json=failure_payload(flow_name, flow_run, error, state),
                timeout=10.0,
            ).raise_for_status()
        except httpx.HTTPError as post_error:
            # The URL may carry a token in its query; log only the failure type.
            log.warning("failure webhook not delivered: %s", type(post_error).__name__)
    return state


def _pause_deployment(flow_run: Any) -> None:
    deployment_id = getattr(flow_run, "deployment_id", None)
    if deployment_id is None:
        return  # an ad-hoc run (CLI, test): the state file alone keeps scheduled runs off
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.pause_deployment(deployment_id)
    except Exception as exc:  # the state file still makes scheduled runs skip
        log.warning("could not pause deployment %s: %s", deployment_id, type(exc).__name__)


def on_flow_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect `on_failure` / `on_crashed` hook."""
    try:
        settings = load_settings()
    except Exception:
        log.warning("failure hook: settings invalid, nothing recorded")
        return
    exc: BaseException | None = None
    try:
        result = state.result(raise_on_failure=False)
        exc = result if isinstance(result, BaseException) else None
    except Exception:
        exc = None
    handle_failure(settings, getattr(flow, "name", "lmsbridge"), flow_run, exc, state.message or "")
