"""LMS activity as HubSpot timeline events, beside the notes (optional).

Only for public (OAuth) apps of HubSpot app partners: private apps cannot send timeline
events (reference/hubspot-api.md section 7). Enabled when LMSBRIDGE_HUBSPOT_APP_ID and
LMSBRIDGE_HUBSPOT_DEVELOPER_API_KEY are both set; otherwise nothing here runs.

- Templates: one per `event_type` of the activity mart, named "LMS <event type>". They are
  managed with the developer API key (HubSpot's `hapikey` query parameter; never a header,
  never in a message: paths are logged without their query and every text is redacted).
  Each template's id and definition fingerprint are kept in `reverse_etl.timeline_templates`,
  so a rerun makes no template call; a missing entry is first looked up by name (one list
  call), then updated or created.
- Events: one per mart row, `id` = activity_key, sent with the access token (the app's
  OAuth token) in batches of at most 100. State is `reverse_etl.sync_state` under the sync
  name `timeline_events`, advanced per confirmed batch. HubSpot refuses a second event with
  a used id ("Event ID already in use", HTTP 400, or an error entry of a 207 batch): that
  answer confirms the event, so a crash between HubSpot's answer and our state update never
  makes a second event. Events are immutable in HubSpot: a confirmed row is not sent again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import duckdb
import httpx

from lmsbridge_core.errors import AuthenticationError, LmsbridgeError
from lmsbridge_core.http import HttpPolicy, hubspot_policy
from lmsbridge_core.redaction import redact
from reverse_etl import state as st
from reverse_etl.client import ApiResponse, HubSpotClient
from reverse_etl.config import Sync
from reverse_etl.plan import BATCH_SIZE, Rejection, SyncPlan, row_hash
from reverse_etl.results import SyncRunResult

if TYPE_CHECKING:
    from reverse_etl.runner import _Run

log = logging.getLogger("reverse_etl.timeline")

SYNC_NAME = "timeline_events"
NOTES_SYNC = "notes"
TIMELINE = "/integrators/timeline/v3"
DUPLICATE_ID = "Event ID already in use"
REQUIRED_COLUMNS = (
    "activity_key",
    "hubspot_contact_id",
    "event_type",
    "course_id",
    "hs_timestamp",
    "hs_note_body",
)
TEMPLATE_DDL = """
create table if not exists reverse_etl.timeline_templates (
    app_id bigint not null,
    event_type text not null,
    template_id text not null,
    template_name text not null,
    fingerprint text not null,
    verified_at timestamptz not null,
    primary key (app_id, event_type)
);
"""


class TimelineRefused(AuthenticationError):
    """HubSpot refused the timeline calls (credentials or app); the message says which."""


# --- template definitions -----------------------------------------------------------------


def template_definition(event_type: str) -> dict[str, Any]:
    label = event_type.replace("_", " ").strip() or event_type
    return {
        "name": f"LMS {label}",
        "objectType": "contacts",
        "headerTemplate": f"LMS {label}: {{{{course_id}}}}",
        "detailTemplate": "{{summary}}",
        "tokens": [
            {"name": "course_id", "label": "Course", "type": "string", "options": []},
            {"name": "event_type", "label": "LMS event type", "type": "string", "options": []},
            {"name": "summary", "label": "Summary", "type": "string", "options": []},
        ],
    }


def _fingerprint(definition: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()


def _same_definition(found: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def tokens(items: Any) -> list[tuple[str, str, str]]:
        return sorted((t.get("name"), t.get("type"), t.get("label")) for t in items or [])

    return (
        found.get("headerTemplate") == wanted["headerTemplate"]
        and found.get("detailTemplate") == wanted["detailTemplate"]
        and tokens(found.get("tokens")) == tokens(wanted["tokens"])
    )


# --- the developer-key client -------------------------------------------------------------


class DeveloperClient:
    """Template calls with the developer API key as `hapikey`; no bearer token is sent.

    The key goes into httpx's `params` only: paths given to the policy, the error text and
    the audit never carry a query string."""

    def __init__(self, base_url: str, app_id: int, key: str, *, budget_s: float) -> None:
        self.app_id = app_id
        self._key = key
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Content-Type": "application/json"},
            timeout=30.0,
        )
        self.policy: HttpPolicy = hubspot_policy(base_url, key, budget_s=budget_s)

    def close(self) -> None:
        self._http.close()

    def call(self, method: str, path: str, json_body: Any = None) -> ApiResponse:
        response = self.policy.send(
            method,
            path,
            lambda: self._http.request(method, path, params={"hapikey": self._key}, json=json_body),
        )
        if response.status_code in (401, 403):
            raise TimelineRefused(
                f"HubSpot refused the developer API key for app {self.app_id} on {method} "
                f"{path} (HTTP {response.status_code}); check LMSBRIDGE_HUBSPOT_APP_ID and "
                "LMSBRIDGE_HUBSPOT_DEVELOPER_API_KEY",
                api="hubspot",
                status=response.status_code,
            )
        try:
            body = response.json() if response.content else None
        except ValueError:  # an HTML error page from HubSpot's edge
            body = {"message": response.text[:300]}
        return ApiResponse(response.status_code, body)

    @property
    def templates_path(self) -> str:
        return f"{TIMELINE}/{self.app_id}/event-templates"


def _fail(what: str, response: ApiResponse) -> LmsbridgeError:
    body = response.body if isinstance(response.body, dict) else {}
    message = str(body.get("message", ""))[:300]
    return LmsbridgeError(f"{what}: HTTP {response.status} {message}".strip())


def ensure_templates(
    con: duckdb.DuckDBPyConnection, dev: DeveloperClient, event_types: Sequence[str]
) -> dict[str, str]:
    """event_type -> template id, creating or updating templates only where needed."""
    con.execute(TEMPLATE_DDL)
    cached = {
        event_type: (template_id, fingerprint)
        for event_type, template_id, fingerprint in con.execute(
            "select event_type, template_id, fingerprint from reverse_etl.timeline_templates "
            "where app_id = ?",
            [dev.app_id],
        ).fetchall()
    }
    ids: dict[str, str] = {}
    todo: list[str] = []
    for event_type in event_types:
        hit = cached.get(event_type)
        if hit is not None and hit[1] == _fingerprint(template_definition(event_type)):
            ids[event_type] = hit[0]
        else:
            todo.append(event_type)
    if not todo:
        return ids
    listed = dev.call("GET", dev.templates_path)
    if listed.status != 200:
        raise _fail("listing the app's timeline event templates failed", listed)
    existing = {t.get("name"): t for t in (listed.body or {}).get("results") or []}
    for event_type in todo:
        wanted = template_definition(event_type)
        found = existing.get(wanted["name"])
        if found is None:
            answer = dev.call("POST", dev.templates_path, wanted)
            if answer.status != 201:
                raise _fail(f"creating the timeline template {wanted['name']!r} failed", answer)
            found = answer.body
            log.info("created timeline event template %r (%s)", wanted["name"], found["id"])
        elif not _same_definition(found, wanted):
            path = f"{dev.templates_path}/{found['id']}"
            answer = dev.call("PUT", path, {**wanted, "id": found["id"]})
            if answer.status != 200:
                raise _fail(f"updating the timeline template {wanted['name']!r} failed", answer)
            log.info("updated timeline event template %r (%s)", wanted["name"], found["id"])
        template_id = str(found["id"])
        con.execute(
            "insert or replace into reverse_etl.timeline_templates values (?, ?, ?, ?, ?, ?)",
            [dev.app_id, event_type, template_id, wanted["name"], _fingerprint(wanted), st.now()],
        )
        ids[event_type] = template_id
    return ids


def forget_template(con: duckdb.DuckDBPyConnection, app_id: int, template_id: str) -> None:
    con.execute(
        "delete from reverse_etl.timeline_templates where app_id = ? and template_id = ?",
        [app_id, template_id],
    )


# --- plan ---------------------------------------------------------------------------------


@dataclass
class Event:
    key: str
    event_type: str
    body: dict[str, Any]  # without eventTemplateId, which setup decides
    digest: str
    row: dict[str, Any]


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return str(value)


def plan_events(
    rows: list[dict[str, Any]], confirmed: set[str], *, full: bool
) -> tuple[list[Event], SyncPlan]:
    plan = SyncPlan(sync_name=SYNC_NAME, object_type="timeline_events")
    events: list[Event] = []
    for row in rows:
        key = row.get("activity_key")
        if not key:
            plan.invalid.append(Rejection("", "MISSING_KEY", "activity_key is empty", row))
            continue
        key = str(key)
        if key in confirmed and not full:
            # Events are immutable in HubSpot: once confirmed there is nothing to send.
            plan.unchanged += 1
            continue
        if not row.get("hubspot_contact_id"):
            plan.skipped.append((key, "no matched HubSpot contact"))
            continue
        if not row.get("event_type"):
            plan.invalid.append(Rejection(key, "MISSING_EVENT_TYPE", "event_type is empty", row))
            continue
        body: dict[str, Any] = {
            "id": key,
            "objectId": str(row["hubspot_contact_id"]),
            "tokens": {
                "course_id": str(row.get("course_id") or ""),
                "event_type": str(row["event_type"]),
                "summary": str(row.get("hs_note_body") or ""),
            },
        }
        timestamp = _iso(row.get("hs_timestamp"))
        if timestamp:
            body["timestamp"] = timestamp
        events.append(Event(key, str(row["event_type"]), body, row_hash(body), row))
    return events, plan


# --- send ---------------------------------------------------------------------------------


@dataclass
class Answer:
    confirmed: list[Event]
    rejected: list[tuple[Event, str, str]]  # event, category, message


def _is_duplicate(error: dict[str, Any]) -> bool:
    return DUPLICATE_ID.lower() in str(error.get("message", "")).lower()


def _send_one(client: HubSpotClient, event: Event, payload: dict[str, Any]) -> Answer:
    answer = client.call("POST", f"{TIMELINE}/events", payload)
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status == 201 or (answer.status == 400 and _is_duplicate(body)):
        return Answer([event], [])
    category = str(body.get("category") or f"HTTP_{answer.status}")
    return Answer([], [(event, category, str(body.get("message", "no message"))[:500])])


def send_batch(client: HubSpotClient, batch: list[tuple[Event, dict[str, Any]]]) -> Answer:
    """One batch/create; events the answer does not settle are sent one by one."""
    by_id = {payload["id"]: (event, payload) for event, payload in batch}
    answer = client.call(
        "POST", f"{TIMELINE}/events/batch/create", {"inputs": [p for _, p in batch]}
    )
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.status not in (200, 201, 207):
        # The whole batch was refused (e.g. one malformed input): settle each on its own.
        unsettled = list(by_id)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
    else:
        results = [r for r in body.get("results") or [] if isinstance(r, dict)]
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        unsettled = []
    done = Answer([], [])
    settled: set[str] = set()
    for result in results:
        eid = str(result.get("id"))
        if eid in by_id and eid not in settled:
            done.confirmed.append(by_id[eid][0])
            settled.add(eid)
    for error in errors:
        ids = [str(i) for i in ((error.get("context") or {}).get("id") or [])]
        for eid in ids:
            if eid not in by_id or eid in settled:
                continue
            settled.add(eid)
            if _is_duplicate(error):
                done.confirmed.append(by_id[eid][0])
            else:
                message = str(error.get("message", "no message"))[:500]
                done.rejected.append((by_id[eid][0], str(error.get("category")), message))
    unsettled += [eid for eid in by_id if eid not in settled and eid not in unsettled]
    for eid in unsettled:
        one = _send_one(client, *by_id[eid])
        done.confirmed += one.confirmed
        done.rejected += one.rejected
    return done


# --- the sync -----------------------------------------------------------------------------


def _refusal_message(exc: AuthenticationError, app_id: int) -> str:
    return (
        f"timeline events refused by HubSpot (HTTP {exc.status}): only a public app's OAuth "
        f"token can send them, private-app tokens cannot. Set LMSBRIDGE_HUBSPOT_ACCESS_TOKEN "
        f"to the OAuth token of app {app_id}, or unset LMSBRIDGE_HUBSPOT_APP_ID and "
        "LMSBRIDGE_HUBSPOT_DEVELOPER_API_KEY to keep notes only."
    )


def run_timeline(run: _Run, notes: Sync, result: SyncRunResult) -> None:
    """Plan and (unless dry run) send; fills `result`, raises LmsbridgeError to stop."""
    settings = run.settings
    assert settings.hubspot_app_id is not None and settings.hubspot_developer_api_key is not None
    try:
        columns, rows = st.read_mart(run.con, notes.source)
    except duckdb.CatalogException:
        raise LmsbridgeError(f"mart {notes.source} does not exist (run dbt build first)") from None
    missing = sorted(set(REQUIRED_COLUMNS) - set(columns))
    if missing:
        raise LmsbridgeError(f"mart {notes.source} lacks column(s) {missing} for timeline events")
    confirmed = set(st.load_state(run.con, SYNC_NAME))
    events, plan = plan_events(rows, confirmed, full=run.full)
    result.plan = plan
    result.planned = len(events)
    result.unchanged = plan.unchanged
    result.skipped = len(plan.skipped)
    result.rejected = len(plan.invalid)
    event_types = sorted({e.event_type for e in events})
    plan.setup += [f"timeline template for event type {t}" for t in event_types]
    if run.dry_run or (not events and not plan.invalid):
        return
    if run.client is None:
        settings.require_hubspot_token()
    assert run.client is not None
    client = run.client
    st.reject(run.con, result.run_id, SYNC_NAME, _clean_rejections(plan.invalid, run.secrets))
    if not events:
        return
    dev = DeveloperClient(
        str(settings.hubspot_base_url),
        settings.hubspot_app_id,
        settings.hubspot_developer_api_key.get_secret_value(),
        budget_s=settings.http_retry_budget_s,
    )
    try:
        calls0 = dev.policy.counter.calls
        template_ids = ensure_templates(run.con, dev, event_types)
        result.setup_calls = dev.policy.counter.calls - calls0
    finally:
        dev.close()
    payloads = [(e, {**e.body, "eventTemplateId": template_ids[e.event_type]}) for e in events]
    for start in range(0, len(payloads), BATCH_SIZE):
        batch = payloads[start : start + BATCH_SIZE]
        try:
            answer = send_batch(client, batch)
        except AuthenticationError as exc:
            raise TimelineRefused(
                _refusal_message(exc, settings.hubspot_app_id), api="hubspot", status=exc.status
            ) from None
        result.sent += len(batch)
        st.confirm(
            run.con,
            SYNC_NAME,
            [
                (e.key, e.key, e.digest, {"eventTemplateId": template_ids[e.event_type]})
                for e in answer.confirmed
            ],
        )
        rejections = [
            Rejection(e.key, category, message, e.row) for e, category, message in answer.rejected
        ]
        st.reject(run.con, result.run_id, SYNC_NAME, _clean_rejections(rejections, run.secrets))
        for event, category, message in answer.rejected:
            if category == "OBJECT_NOT_FOUND" and "template" in message.lower():
                # The template was deleted in HubSpot: look it up again next run.
                forget_template(run.con, settings.hubspot_app_id, template_ids[event.event_type])
        result.succeeded += len(answer.confirmed)
        result.rejected += len(answer.rejected)


def _clean_rejections(rows: list[Rejection], secrets: list[str]) -> list[Rejection]:
    return [Rejection(r.record_key, r.category, redact(r.message, secrets), r.row) for r in rows]


def run_if_enabled(run: _Run, syncs: Sequence[Sync]) -> list[SyncRunResult]:
    """The timeline sync's result: empty when the settings are not both set or the notes
    sync (whose mart it reads) is not among the syncs of this run."""
    settings = run.settings
    if not settings.timeline_enabled:
        if (settings.hubspot_app_id is None) != (settings.hubspot_developer_api_key is None):
            log.warning(
                "timeline events stay off: LMSBRIDGE_HUBSPOT_APP_ID and "
                "LMSBRIDGE_HUBSPOT_DEVELOPER_API_KEY must both be set (only one is)"
            )
        return []
    notes = next((s for s in syncs if s.name == NOTES_SYNC), None)
    if notes is None:
        return []
    result = SyncRunResult(name=SYNC_NAME)
    started, t0 = st.now(), time.monotonic()
    calls0 = (run.client.counters.calls, run.client.counters.status_429) if run.client else (0, 0)
    try:
        run_timeline(run, notes, result)
    except LmsbridgeError as exc:
        result.status, result.error = "error", redact(str(exc), run.secrets)
        result.cause = exc
        log.error("sync %s stopped: %s", SYNC_NAME, result.error)
    if run.client is not None:
        result.calls = run.client.counters.calls - calls0[0] + result.setup_calls
        result.status_429 = run.client.counters.status_429 - calls0[1]
    run.finish(result, started, t0)
    return [result]
