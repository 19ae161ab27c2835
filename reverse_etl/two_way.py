"""The two-way field syncs and learner creation of one `run_syncs` call.

fields_to_hubspot and fields_to_lms share one plan (reverse_etl.field_plan); learner creation
runs after them. Each reports a SyncRunResult like the one-way syncs do.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import duckdb

from lmsbridge_core.errors import LmsbridgeError
from lmsbridge_core.settings import Settings
from reverse_etl import field_state as fs
from reverse_etl import field_sync, learner_creation, own_writes
from reverse_etl import state as st
from reverse_etl.field_plan import FieldPlan, ResyncDirection
from reverse_etl.lms_client import LmsClient
from reverse_etl.mappings import FieldMappings
from reverse_etl.results import SyncAborted, SyncRunResult

if TYPE_CHECKING:
    from reverse_etl.runner import _Run

log = logging.getLogger("reverse_etl")


TWO_WAY_SYNCS = (field_sync.TO_HUBSPOT, field_sync.TO_LMS, learner_creation.NAME)


class TwoWay:
    """The two-way field syncs and learner creation of one run (see reverse_etl/field_sync)."""

    def __init__(self, run: _Run, mappings: FieldMappings, lms: LmsClient | None) -> None:
        self.run = run
        self.mappings = mappings
        self.lms = lms

    def _finish(
        self,
        result: SyncRunResult,
        started: Any,
        t0: float,
        hub0: int,
        lms0: int,
    ) -> SyncRunResult:
        run = self.run
        if run.client is not None:
            result.calls += run.client.counters.calls - hub0
        if self.lms is not None:
            result.calls += self.lms.counter.calls - lms0
        run.finish(result, started, t0)
        return result

    def _counters(self) -> tuple[int, int]:
        hub = self.run.client.counters.calls if self.run.client else 0
        return hub, (self.lms.counter.calls if self.lms else 0)

    def plan(self, resync: ResyncDirection | None) -> tuple[FieldPlan, list[tuple[str, str]]]:
        run = self.run
        reserved = field_sync.reserved_properties(list(run.config.syncs))
        try:
            checks = field_sync.check(run.con, self.mappings, reserved)
        except duckdb.CatalogException:
            raise SyncAborted("field mappings need a dbt build first (marts missing)") from None
        invalid = [(c.mapping.key, c.problem or "") for c in checks if not c.valid]
        for key, problem in invalid:
            log.warning("field mapping %s is invalid and skipped: %s", key, problem)
        if not run.dry_run:
            fs.ensure_tables(run.con)
            fs.record_checks(run.con, checks)
        valid = [c.mapping for c in checks if c.valid]
        try:
            plan = field_sync.plan_fields(run.con, valid, resync=resync)
        except duckdb.CatalogException:
            raise SyncAborted(
                "marts.rev_etl__learner_fields / rev_etl__contact_properties are missing "
                "(run dbt build first)"
            ) from None
        if resync is None and run.client is not None:
            self._settle_own_writes(plan)
        return plan, invalid

    def _settle_own_writes(self, plan: FieldPlan) -> None:
        """HubSpot values that are our own unconfirmed writes are no HubSpot-side change."""
        run = self.run
        assert run.client is not None
        confirmed = (
            st.load_state(run.con, s.name)
            for s in run.config.syncs
            if s.enabled and s.object_type == "contacts" and s.mode == "update"
        )
        try:
            own_writes.settle_own_writes(plan, run.client, fs.load(run.con), confirmed)
        except LmsbridgeError as exc:
            # The plan as it stands is what runs did before: worse in a rare case, not wrong.
            log.warning("could not read property history (%s); planning without it", exc)

    def _guard(self, result: SyncRunResult, action: Callable[[], None]) -> None:
        try:
            action()
        except LmsbridgeError as exc:
            result.status, result.error = "error", self.run._clean(str(exc))
            result.cause = exc
            log.error("sync %s stopped: %s", result.name, result.error)

    def _lms_or_skip(self, result: SyncRunResult) -> LmsClient | None:
        """The LearnWorlds client; without one (a history-CSV-only setup) the LMS side is
        skipped with a warning rather than failing the run."""
        if self.lms is None:
            result.status = "skipped"
            result.error = "LearnWorlds API not configured (LMSBRIDGE_LMS_BASE_URL): not written"
            log.warning("sync %s skipped: %s", result.name, result.error)
        return self.lms

    def run_all(self, wanted: set[str], resync: ResyncDirection | None) -> list[SyncRunResult]:
        run = self.run
        started, t0 = st.now(), time.monotonic()
        hub0, lms0 = self._counters()
        plan: FieldPlan | None = None
        invalid: list[tuple[str, str]] = []
        to_hub = SyncRunResult(name=field_sync.TO_HUBSPOT)
        to_lms = SyncRunResult(name=field_sync.TO_LMS)

        def planned() -> None:
            nonlocal plan, invalid
            plan, invalid = self.plan(resync)

        self._guard(to_hub, planned)
        results: list[SyncRunResult] = []
        if plan is None:
            to_lms.status, to_lms.error, to_lms.cause = to_hub.status, to_hub.error, to_hub.cause
            results = [to_hub, to_lms]
            return [self._finish(r, started, t0, hub0, lms0) for r in results]
        for result, way in ((to_hub, "to_hubspot"), (to_lms, "to_lms")):
            result.field_plan = plan
            result.invalid_mappings = invalid
            result.planned = len(plan.writes(way))  # type: ignore[arg-type]
            result.unchanged = plan.unchanged
        if not run.dry_run:
            field_sync.confirm_agreements(run.con, plan)
        if field_sync.TO_HUBSPOT in wanted:
            results.append(self._apply_hubspot(to_hub, plan, started))
        if field_sync.TO_LMS in wanted:
            results.append(self._apply_lms(to_lms, plan, started))
        if learner_creation.NAME in wanted and self.mappings.learner_creation.enabled:
            results.append(self._create_learners(started))
        return results

    def _apply_hubspot(self, result: SyncRunResult, plan: FieldPlan, started: Any) -> SyncRunResult:
        run = self.run
        hub0, lms0 = self._counters()
        t0 = time.monotonic()

        def apply() -> None:
            if run.dry_run or not plan.writes("to_hubspot"):
                return
            if run.client is None:
                run.settings.require_hubspot_token()
            assert run.client is not None
            outcome = field_sync.write_hubspot(run.con, run.client, plan, run.progress)
            self._count(result, outcome)

        self._guard(result, apply)
        return self._finish(result, started, t0, hub0, lms0)

    def _apply_lms(self, result: SyncRunResult, plan: FieldPlan, started: Any) -> SyncRunResult:
        run = self.run
        hub0, lms0 = self._counters()
        t0 = time.monotonic()

        def apply() -> None:
            if run.dry_run or not plan.writes("to_lms"):
                return
            lms = self._lms_or_skip(result)
            if lms is None:
                return
            outcome = field_sync.write_lms(
                run.con,
                lms,
                plan,
                validate=self.mappings.validate_values,
                progress=run.progress,
            )
            self._count(result, outcome)

        self._guard(result, apply)
        return self._finish(result, started, t0, hub0, lms0)

    def _create_learners(self, started: Any) -> SyncRunResult:
        run = self.run
        result = SyncRunResult(name=learner_creation.NAME)
        hub0, lms0 = self._counters()
        t0 = time.monotonic()
        config = self.mappings.learner_creation

        def apply() -> None:
            todo = learner_creation.pending(run.con, config)
            result.planned = len(todo)
            if run.dry_run or not todo:
                return
            lms = self._lms_or_skip(result)
            if lms is None:
                return
            outcome = learner_creation.create(
                run.con,
                lms,
                config,
                todo,
                validate=self.mappings.validate_values,
                progress=run.progress,
            )
            result.sent = outcome.planned
            result.succeeded = len(outcome.created) + len(outcome.adopted)
            result.rejected = len(outcome.rejected)
            st.reject(run.con, result.run_id, result.name, outcome.rejected)

        self._guard(result, apply)
        return self._finish(result, started, t0, hub0, lms0)

    def _count(self, result: SyncRunResult, outcome: field_sync.FieldSyncOutcome) -> None:
        result.sent += outcome.sent
        result.succeeded += outcome.succeeded
        result.rejected += len(outcome.rejected)
        st.reject(self.run.con, result.run_id, result.name, outcome.rejected)


def lms_client(settings: Settings) -> LmsClient | None:
    if settings.lms_base_url is None:
        return None
    base, client_id, secret = settings.require_lms_api()
    return LmsClient(
        base,
        client_id,
        secret,
        rate=(settings.lms_rate_calls, settings.lms_rate_window_s),
        budget_s=settings.http_retry_budget_s,
    )
