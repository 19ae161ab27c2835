"""What one sync reports (returned by `run_syncs`, recorded in reverse_etl.sync_runs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from lmsbridge_core.errors import (
    AuthenticationError,
    LmsbridgeError,
    QuotaExhaustedError,
    TransientError,
    UnreachableError,
)
from reverse_etl.field_plan import FieldPlan
from reverse_etl.plan import SyncPlan
from reverse_etl.rejections import RejectedRecord

# Failures of the API itself: every later sync would meet them too, so the run stops and the
# error reaches the orchestrator with its type (exit code, task retry).
RUN_STOPPERS = (QuotaExhaustedError, AuthenticationError, UnreachableError, TransientError)


@dataclass
class SyncRunResult:
    name: str
    planned: int = 0
    sent: int = 0
    succeeded: int = 0
    rejected: int = 0
    unchanged: int = 0
    calls: int = 0
    status_429: int = 0
    duration_s: float = 0.0
    plan: SyncPlan | None = None
    status: str = "ok"
    error: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    setup_calls: int = 0
    skipped: int = 0
    # The typed error behind status "error" (not persisted): exit code and retry follow it.
    cause: BaseException | None = field(default=None, repr=False, compare=False)
    # Two-way syncs: the field plan (both directions share it) and per-field explanations.
    field_plan: FieldPlan | None = field(default=None, repr=False, compare=False)
    invalid_mappings: list[tuple[str, str]] = field(default_factory=list)
    # The first rejected records of this sync with their email and HubSpot link (not persisted
    # here: rejected_rows holds them all).
    rejections: list[RejectedRecord] = field(default_factory=list, repr=False, compare=False)
    # Syncs with a per-value cap (tasks per owner): planned writes per owner after the cap,
    # those HubSpot confirmed, and the rows held back for the next run.
    by_owner: dict[str, int] = field(default_factory=dict)
    by_owner_confirmed: dict[str, int] = field(default_factory=dict)
    deferred: int = 0
    # `--repair`: records re-sent because HubSpot lost what it had confirmed.
    repaired: int = 0
    # Deleted learners whose on_delete policy ran this run: cleared / archived / left.
    tombstones: dict[str, int] = field(default_factory=dict)


class SyncAborted(LmsbridgeError):
    """Stops one sync (a mart or column is missing); the message is actionable."""
