"""`run_syncs`: read marts, plan, set up properties, write batches, record state and audit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import duckdb

from lmsbridge_core.errors import (
    ConfigurationError,
    LmsbridgeError,
)
from lmsbridge_core.redaction import install_redaction, redact
from lmsbridge_core.settings import Settings
from reverse_etl import state as st
from reverse_etl.changed_rows import (
    MartRead,
    mart_columns,
    read_changed,
    remember,
    save_quiet,
)
from reverse_etl.client import HubSpotClient
from reverse_etl.config import Sync, SyncFile, load_config
from reverse_etl.field_plan import ResyncDirection
from reverse_etl.merges import load_merges, repoint
from reverse_etl.options import resolve_options
from reverse_etl.plan import Rejection, SyncPlan, Write, build_plan
from reverse_etl.properties import check_schema, ensure_schema
from reverse_etl.rejections import describe as describe_rejections
from reverse_etl.repair import scan
from reverse_etl.results import RUN_STOPPERS, SyncAborted, SyncRunResult
from reverse_etl.two_way import TWO_WAY_SYNCS, TwoWay, lms_client
from reverse_etl.writer import BatchOutcome, send_writes

log = logging.getLogger("reverse_etl")
Progress = Callable[[str, int, int | None], None]
# Batches in flight at once. The limiter, not this number, bounds the call rate; two keeps
# the pipe busy while one response is parsed and its state row written.
WORKERS = 2
# Runs this small cannot matter to a daily budget of 250,000+; they skip the usage read so a
# one-record change stays one call.
DAILY_CHECK_MIN_BATCHES = 2


def _required_columns(sync: Sync) -> set[str]:
    needed = {sync.record_key, sync.id_column, *sync.fields}
    needed |= {a.column for a in sync.associations}
    if sync.consent_column:
        needed.add(sync.consent_column)
    if sync.create_missing_contacts:
        needed.add(sync.create_id_column)
    if sync.on_delete is not None:
        needed.add(sync.deleted_column)
    if sync.do_not_create_column:
        needed.add(sync.do_not_create_column)
    if sync.cap is not None:
        needed |= {c for c in (sync.cap.column, sync.cap.newest_first_by) if c}
    return needed


class _Run:
    """State shared by the syncs of one `run_syncs` call."""

    def __init__(
        self,
        settings: Settings,
        con: duckdb.DuckDBPyConnection,
        config: SyncFile,
        client: HubSpotClient | None,
        *,
        dry_run: bool,
        full: bool,
        progress: Progress | None,
        pipeline_run_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.con = con
        self.config = config
        self.client = client
        self.dry_run = dry_run
        self.full = full
        self.progress = progress
        self.pipeline_run_id = pipeline_run_id
        self.repair = False  # `--repair`: set by run_syncs
        # sync name -> record key -> mart row hash, kept with the state HubSpot confirms
        self.source_hashes: dict[str, dict[str, str]] = {}
        self.secrets = settings.secrets()
        self.usage_logged = False

    def _clean(self, text: str) -> str:
        return redact(text, self.secrets)

    def plan(self, sync: Sync) -> tuple[Sync, SyncPlan]:
        try:
            columns = mart_columns(self.con, sync.source)
        except duckdb.CatalogException:
            raise SyncAborted(
                f"mart {sync.source} does not exist in {self.settings.warehouse_path} "
                "(run dbt build first)"
            ) from None
        missing = sorted(_required_columns(sync) - set(columns))
        if missing:
            raise SyncAborted(f"mart {sync.source} lacks column(s) {missing} named in the config")
        # Options read from the warehouse (options_from) join the field here, so value
        # checks and property setup see the seed's current list.
        resolved = resolve_options(self.con, sync.resolve(columns))
        # `--repair` and `--full` look at every row; otherwise SQL hands over the changed ones.
        repair = self.repair and not self.full
        if self.full or repair:
            read = MartRead(*st.read_mart(self.con, resolved.source))
            keys = None
        else:
            read = read_changed(
                self.con,
                resolved,
                columns,
                has_state=st.has_plan_tables(self.con),
                list_skipped=self.dry_run,
            )
            keys = [str(r[resolved.record_key]) for r in read.rows if r.get(resolved.record_key)]
        forward = [s.property for s in resolved.fields.values() if s.forward_only]
        current = st.current_values(self.con, resolved.object_type, forward) if read.rows else {}
        known = st.load_state(self.con, resolved.name, keys)
        if resolved.object_type == "contacts" and known:
            # Never diff against (or write to) a contact HubSpot merged away.
            known, moved = repoint(known, load_merges(self.con))
            if moved:
                log.info("%s: %d record(s) re-pointed to merged contacts", resolved.name, moved)
        drift = scan(self.client, resolved, known, self.progress) if repair else None
        tombstones = resolved.on_delete and read.rows
        created = st.created_keys(self.con, resolved.name) if tombstones else set()
        plan = build_plan(
            resolved,
            read.rows,
            known,
            full=self.full,
            hubspot_current=current,
            repair=drift,
            created=created,
            live_targets=read.live_targets,
        )
        plan.unchanged += read.unchanged
        plan.skipped += read.skipped
        plan.skipped_unlisted += read.skipped_unlisted
        self.source_hashes[resolved.name] = read.source_hashes
        if not self.dry_run:
            if not read.quiet:  # a quiet read has nothing new to stamp or remember
                remember(
                    self.con, resolved.name, read.source_hashes, plan.unchanged_keys, plan.skipped
                )
            pending = plan.writes or plan.noops or plan.invalid or plan.deferred
            if not pending:
                save_quiet(self.con, resolved.name, read, plan.unchanged)
        return resolved, plan

    def setup(self, sync: Sync, plan: SyncPlan) -> int:
        """Property setup on the first run (or after the field map changed); 0 calls after."""
        fingerprint = sync.fingerprint()
        if st.cached_fingerprint(self.con, sync.name) == fingerprint:
            return 0
        if self.client is None:
            plan.setup.append("schema not verified: no HubSpot token configured")
            return 0
        if self.dry_run:
            check = check_schema(self.client, sync)
            if check.group_missing:
                plan.setup.append(f"create property group {sync.property_group}")
            plan.setup += [f"create property {s.property} ({s.type})" for s in check.missing]
            plan.setup += [
                f"add options {[o.value for o in u.missing]} to property {u.spec.property}"
                for u in check.options
            ]
            return check.calls
        calls = ensure_schema(self.client, sync, self.config.property_group)
        st.cache_fingerprint(self.con, sync.name, sync.object_type, fingerprint)
        return calls

    def apply(self, sync: Sync, plan: SyncPlan, result: SyncRunResult) -> None:
        assert self.client is not None
        con, client = self.con, self.client
        st.reject(con, result.run_id, sync.name, plan.invalid)
        hashes = self.source_hashes.get(sync.name, {})
        st.confirm(con, sync.name, plan.noops, hashes)
        batches = plan.batches("update") + plan.batches("upsert") + plan.batches("archive")
        # Progress counts records, not batches: "1,196/1,196", not "12/12".
        done = 0
        total = sum(len(w.record_keys) for batch in batches for w in batch)

        def record(batch: list[Write], outcome: BatchOutcome) -> None:
            nonlocal done
            confirmed = []
            rejected = []
            created = []
            for write in batch:
                hubspot_id = outcome.confirmed.get(write.trace_id)
                # Only an update sync can meet records it did not create (see `_tracked`).
                new = outcome.new.get(write.trace_id) is True and sync.mode == "update"
                if hubspot_id is not None and new:
                    created += [(key, hubspot_id) for key in write.record_keys]
                result.sent += len(write.record_keys)
                if hubspot_id is not None and write.group is not None:
                    confirmed_by = result.by_owner_confirmed
                    confirmed_by[write.group] = confirmed_by.get(write.group, 0) + 1
                for key in write.record_keys:
                    if hubspot_id is not None:
                        confirmed.append((key, hubspot_id, write.hashes[key], write.confirmed[key]))
                    else:
                        category, message = outcome.rejected.get(
                            write.trace_id, ("UNCONFIRMED", "no result")
                        )
                        payload = {"target": write.target, **write.confirmed[key]}
                        rejected.append(Rejection(key, category, self._clean(message), payload))
            st.confirm(con, sync.name, confirmed, hashes)
            st.record_created(con, sync.name, created)
            st.reject(con, result.run_id, sync.name, rejected)
            result.succeeded += len(confirmed)
            result.rejected += len(rejected)
            if any(r.category == "PROPERTY_DOESNT_EXIST" for r in rejected):
                # Someone deleted a property since setup: verify the schema again next run.
                st.forget_fingerprint(con, sync.name)
            done += sum(len(w.record_keys) for w in batch)
            if self.progress:
                self.progress(f"sync {sync.name}", done, total)

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            pending: dict[Future[BatchOutcome], list[Write]] = {}
            queue = list(batches)
            while queue or pending:
                while queue and len(pending) < WORKERS:
                    batch = queue.pop(0)
                    pending[pool.submit(send_writes, client, sync.object_type, batch)] = batch
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in finished:
                    batch = pending.pop(future)
                    # An exception here (daily limit, auth) stops the sync; batches already
                    # confirmed are recorded, the in-flight ones are re-sent next run.
                    record(batch, future.result())

    def run_one(self, sync: Sync) -> SyncRunResult:
        result = SyncRunResult(name=sync.name)
        started, t0 = st.now(), time.monotonic()
        calls0 = (
            (self.client.counters.calls, self.client.counters.status_429) if self.client else (0, 0)
        )
        fatal: BaseException | None = None
        try:
            resolved, plan = self.plan(sync)
            result.plan = plan
            result.planned = plan.planned
            result.unchanged = plan.unchanged + len(plan.noops)
            result.skipped = plan.skipped_count
            result.deferred = len(plan.deferred)
            result.by_owner = dict(plan.by_owner)
            result.repaired = len(plan.repaired)
            result.tombstones = {a: len(keys) for a, keys in plan.tombstones.items()}
            if (line := plan.cap_line()) is not None:
                log.info("%s", line)
            calls0 = self._check_daily_usage(plan, calls0)
            result.setup_calls = self.setup(resolved, plan)
            if not self.dry_run:
                if self.client is None:
                    self.settings.require_hubspot_token()
                result.rejected = len(plan.invalid)
                self.apply(resolved, plan, result)
            else:
                result.rejected = len(plan.invalid)
        except LmsbridgeError as exc:
            result.status, result.error = "error", self._clean(str(exc))
            result.cause = exc
            log.error("sync %s stopped: %s", sync.name, result.error)
            if isinstance(exc, RUN_STOPPERS):
                fatal = exc
        if self.client is not None:
            result.calls = self.client.counters.calls - calls0[0]
            result.status_429 = self.client.counters.status_429 - calls0[1]
        self.finish(result, started, t0)
        if fatal is not None:
            raise _StopRun(result) from None
        return result

    def finish(self, result: SyncRunResult, started: Any, t0: float) -> None:
        """Duration, the sync_runs row (not on a dry run) and the log line of one sync."""
        result.duration_s = round(time.monotonic() - t0, 3)
        if not self.dry_run:
            st.record_run(self.con, self._audit_row(result, started))
        log.info(
            "sync %s: planned=%d sent=%d ok=%d rejected=%d unchanged=%d calls=%d 429s=%d %.2fs",
            result.name,
            result.planned,
            result.sent,
            result.succeeded,
            result.rejected,
            result.unchanged,
            result.calls,
            result.status_429,
            result.duration_s,
        )

    def _check_daily_usage(self, plan: SyncPlan, calls0: tuple[int, int]) -> tuple[int, int]:
        """Once per run, and only when there is a real amount to send (a no-op run stays at 0
        calls); the call is bookkeeping, so it is not counted against the sync."""
        if self.dry_run or self.client is None or self.usage_logged:
            return calls0
        batches = len(plan.batches("update")) + len(plan.batches("upsert"))
        if batches < DAILY_CHECK_MIN_BATCHES:
            return calls0
        self.usage_logged = True
        before = (self.client.counters.calls, self.client.counters.status_429)
        _log_daily_usage(self.client, batches)
        return (
            calls0[0] + self.client.counters.calls - before[0],
            calls0[1] + self.client.counters.status_429 - before[1],
        )

    def _audit_row(self, result: SyncRunResult, started: Any) -> dict[str, Any]:
        return {
            "run_id": result.run_id,
            "sync_name": result.name,
            "started_at": started,
            "finished_at": st.now(),
            "dry_run": self.dry_run,
            "planned": result.planned,
            "sent": result.sent,
            "succeeded": result.succeeded,
            "rejected": result.rejected,
            "unchanged": result.unchanged,
            "calls": result.calls,
            "status_429": result.status_429,
            "duration_s": result.duration_s,
            "status": result.status,
            "error": result.error,
            "pipeline_run_id": self.pipeline_run_id,
        }


class _StopRun(Exception):
    def __init__(self, result: SyncRunResult) -> None:
        super().__init__(result.error)
        self.result = result


def _log_daily_usage(client: HubSpotClient, batches: int) -> None:
    """Say how much of HubSpot's daily budget is left before spending some of it.

    Informational: a run that would cross the limit still sends what it can, stops at the
    DAILY 429 and resumes on the next run from sync_state.
    """
    usage = client.daily_usage()
    if usage is None:
        return
    used, limit = usage
    level = logging.WARNING if limit - used < batches else logging.INFO
    log.log(
        level,
        "HubSpot daily API usage: %d of %d calls spent today (%.1f%%); this sync needs about %d",
        used,
        limit,
        100 * used / limit if limit else 0.0,
        batches,
    )


def _attach_rejections(run: _Run, results: list[SyncRunResult]) -> None:
    """Each result's first rejected records, with email and HubSpot link, for the summary.
    The account details (for the links) cost one call, made only when something was rejected."""
    rejected = {r.name: r.run_id for r in results if r.rejected}
    if not rejected:
        return
    account = None
    if run.client is not None:
        try:
            account = run.client.account_details()
        except LmsbridgeError as exc:  # links are a courtesy; the records are still listed
            log.warning("no HubSpot links in the summary: %s", run._clean(str(exc)))
    found = describe_rejections(run.con, rejected, {s.name: s for s in run.config.syncs}, account)
    for result in results:
        result.rejections = found.get(result.name, [])


def run_syncs(
    settings: Settings,
    *,
    dry_run: bool = False,
    only: list[str] | str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    resync: ResyncDirection | None = None,
    pipeline_run_id: str | None = None,
    repair: bool = False,
) -> list[SyncRunResult]:
    """Run every enabled sync (or `only` those named); see docs/contracts.md section 5.

    With `field_mappings` configured, the two-way syncs (fields_to_hubspot, fields_to_lms,
    learner_creation) run after the others; `resync` aligns every mapped field that way.
    `pipeline_run_id` (the run ledger's id) groups the sync_runs rows of one pipeline run.

    `repair` first reads HubSpot back and re-sends what was changed or deleted there by hand
    (reverse_etl/repair.py); with `dry_run` it only shows what it would re-send.

    Dry run returns the plans and writes nothing: no HubSpot writes, no warehouse writes.
    A failing sync is reported in its result (status "error", typed `cause`) and the others
    still run, except when the API itself fails (daily limit, auth, unreachable, retries
    spent), which stops the whole run: the rest are reported with the same cause.
    """
    install_redaction(settings.secrets())
    config = load_config(settings.sync_config_path)
    wanted = [only] if isinstance(only, str) else only
    syncs = [s for s in config.syncs if s.enabled and (wanted is None or s.name in wanted)]
    mappings = (
        config.field_mappings if config.field_mappings and config.field_mappings.active else None
    )
    two_way = set(TWO_WAY_SYNCS) if mappings else set()
    if wanted:
        two_way &= set(wanted)
        unknown = sorted(set(wanted) - {s.name for s in config.syncs} - set(TWO_WAY_SYNCS))
        if unknown:
            known = [s.name for s in config.syncs] + list(TWO_WAY_SYNCS)
            raise ConfigurationError(f"unknown sync name(s) {unknown}; configured: {known}")
    path = settings.warehouse_path
    if dry_run and not path.exists():
        raise ConfigurationError(
            f"LMSBRIDGE_WAREHOUSE_PATH {path} does not exist (run the pipeline first)"
        )
    if not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
    token = settings.hubspot_access_token
    client = (
        HubSpotClient(
            str(settings.hubspot_base_url),
            token.get_secret_value(),
            budget_s=settings.http_retry_budget_s,
        )
        if token is not None and token.get_secret_value()
        else None
    )
    try:
        con = st.connect(str(path), read_only=dry_run)
    except duckdb.IOException as exc:
        if client is not None:
            client.close()
        # DuckDB allows one writer process: most often dbt or another sync holds the file.
        raise LmsbridgeError(f"cannot open warehouse {path}: {exc}") from None
    results: list[SyncRunResult] = []
    try:
        if not dry_run:
            st.ensure_tables(con)
        run = _Run(
            settings,
            con,
            config,
            client,
            dry_run=dry_run,
            full=full,
            progress=progress,
            pipeline_run_id=pipeline_run_id,
        )
        run.repair = repair
        stopped = False
        for index, sync in enumerate(syncs):
            try:
                results.append(run.run_one(sync))
            except _StopRun as stop:
                results.append(stop.result)
                for rest in syncs[index + 1 :]:
                    results.append(
                        SyncRunResult(
                            name=rest.name,
                            status="error",
                            error=stop.result.error,
                            cause=stop.result.cause,
                        )
                    )
                stopped = True
                break
        # --- Timeline events (optional; reverse_etl/timeline.py): after the syncs, beside
        # the notes, unless the API already stopped the run. Nothing when not configured.
        if not any(isinstance(r.cause, RUN_STOPPERS) for r in results):
            from reverse_etl.timeline import run_if_enabled  # it builds on this module

            results += run_if_enabled(run, syncs)
        if mappings is not None and two_way and not stopped:
            lms = lms_client(settings)
            try:
                results += TwoWay(run, mappings, lms).run_all(two_way, resync)
            finally:
                if lms is not None:
                    lms.close()
        if not dry_run:
            _attach_rejections(run, results)
    finally:
        con.close()
        if client is not None:
            client.close()
    return results
