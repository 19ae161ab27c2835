"""dlt source for LearnWorlds: a backfill that fans out only to enrolled learners, then
activity-driven increments.

LearnWorlds has no "modified since" filter and keeps enrollments, progress and certificates
per user or per course. A backfill reads the course rosters to learn who is enrolled at all,
and reads enrollments and progress only for those learners (a learner with no enrollment has
neither); certificates and grades come from per-course lists. Later runs read only the
time-windowed feeds (event logs, payments, new registrations) and the landed webhooks, and
make just the per-learner reads the named kind of activity calls for (extract.lms_signals),
so the call count follows activity. Everything runs in one generator so the fan-out happens
after the feeds, in a known order.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
import orjson
from dlt.extract.resource import DltResource

from extract import landing
from extract.lms_api import LmsApi
from extract.lms_signals import Signals
from extract.lms_tables import LMS_TABLES, MAX_TABLE_NESTING
from extract.result import Progress, report
from extract.table_hints import nested_hints

# Feeds are re-read this far behind their cursor: late-indexed records still get picked up,
# and ids already seen inside the window are remembered so they do not trigger a fan-out twice.
OVERLAP_S = 120.0
PAGE_SIZE = 200  # the spec's max where items_per_page is declared
GRADE_USERS_PER_CALL = 50


def _rows(table: str, rows: list[dict[str, Any]]) -> Any:
    hints = LMS_TABLES[table]
    return dlt.mark.with_hints(
        rows,
        dlt.mark.make_hints(
            table_name=table,
            write_disposition="merge",
            primary_key=hints["primary_key"],
            columns=hints["columns"],
            nested_hints=nested_hints(hints),
        ),
        create_table_variant=True,
    )


def _users(rows: list[dict[str, Any]]) -> Any:
    """User rows stamped with when they were read: what deletion-by-absence compares with."""
    now = time.time()
    return _rows("users", [{**row, "seen_at": now} for row in rows])


def sweep_id(started: float) -> str:
    """A sweep's key: its start, as text no type inference takes for a date."""
    return f"users-sweep-{started:.6f}"


def _sweep_row(started: float, users_seen: int) -> Any:
    """The record of one complete read of /v2/users (none is written for a partial one)."""
    row = {
        "sweep_id": sweep_id(started),
        "started_at": started,
        "finished_at": time.time(),
        "users_seen": users_seen,
    }
    return _rows("user_sweeps", [row])


@dataclass
class _Window:
    """A created-after cursor plus the ids already seen inside its overlap."""

    cursor: float | None
    seen: set[str]
    new_max: float | None = None
    new_seen: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, state: dict[str, Any], name: str) -> _Window:
        saved = state.get(name) or {}
        return cls(saved.get("cursor"), set(saved.get("seen", [])))

    def since(self) -> int | None:
        return None if self.cursor is None else int(self.cursor - OVERLAP_S)

    def observe(self, key: str, created: Any) -> bool:
        """Track the cursor; True when this record was not seen by an earlier run."""
        try:
            ts = float(created)
        except (TypeError, ValueError):
            return key not in self.seen
        self.new_max = ts if self.new_max is None else max(self.new_max, ts)
        self.new_seen[key] = ts
        return key not in self.seen and (self.cursor is None or ts > self.cursor - OVERLAP_S)

    def save(self, state: dict[str, Any], name: str) -> None:
        known = [x for x in (self.cursor, self.new_max) if x is not None]
        if not known:
            return
        cursor = max(known)
        # Re-read rows come back inside the overlap, so the fresh set supersedes the old one.
        keep = {k for k, ts in self.new_seen.items() if ts > cursor - OVERLAP_S}
        if self.new_max is None:
            keep |= self.seen
        state[name] = {"cursor": cursor, "seen": sorted(keep)}


def event_log_id(row: dict[str, Any]) -> str:
    user = row.get("user") or {}
    raw = f"{user.get('id')}|{row.get('created')!r}|{row.get('activity')}"
    return hashlib.sha1(raw.encode()).hexdigest()


def with_event_log_id(row: dict[str, Any]) -> dict[str, Any]:
    """An event log row as landed: the API gives it no id, so it gets a derived one."""
    row["event_log_id"] = event_log_id(row)
    return row


class _LmsRun:
    def __init__(
        self,
        api: LmsApi,
        landing_dir: Path,
        full: bool,
        progress: Progress | None,
        profile_sweep_s: float | None = None,
    ) -> None:
        self.api = api
        self.profile_sweep_s = profile_sweep_s
        self.landing_dir = landing_dir
        self.full = full
        self.progress = progress
        self.signals = Signals()
        # Learners a per-user call answered 404 for in this run (landed once each).
        self.not_found: set[str] = set()

    def run(self) -> Iterator[Any]:
        state = dlt.current.source_state()
        backfill = self.full or not state.get("backfilled")
        windows = {n: _Window.load(state, n) for n in ("users", "payments", "event_logs")}
        if backfill:
            windows = {n: _Window(None, set()) for n in windows}

        user_ids: list[str] = []
        # Without a registration_after filter the feed reads every user: a complete read.
        complete_read = windows["users"].since() is None
        users_started = time.time()
        yield from self._feed(
            "users",
            "/v2/users",
            windows["users"],
            "registration_after",
            {"items_per_page": PAGE_SIZE, "include_suspended": "true"},
            user_ids,
        )
        if complete_read:
            yield _sweep_row(users_started, len(dict.fromkeys(user_ids)))
        # No filter exists for courses; the short list is re-read and re-landed only on change.
        course_rows = [c for page in self.api.pages("/v2/courses") for c in page]
        courses = [str(c["id"]) for c in course_rows if c.get("id") is not None]
        digest = hashlib.sha256(orjson.dumps(course_rows, option=orjson.OPT_SORT_KEYS)).hexdigest()
        if backfill or state.get("courses_digest") != digest:
            yield _rows("courses", course_rows)
        state["courses_digest"] = digest
        report(self.progress, "lms:courses", len(courses), len(courses))
        yield from self._feed(
            "payments",
            "/v2/payments",
            windows["payments"],
            "created_after",
            {"items_per_page": PAGE_SIZE},
            None,
        )
        yield from self._feed(
            "event_logs",
            "/v2/event-logs",
            windows["event_logs"],
            "created_after",
            {"sort": "asc"},
            None,
        )
        offsets = dict(state.get("webhook_offsets") or {})
        yield from self._webhooks(offsets)

        if backfill:
            # The backfill read every profile: the next sweep is due a whole period later.
            state["profiles_swept_at"] = time.time()
            enrolled = self._rosters(courses)
            yield from self._fan_out_learners(enrolled, Signals(enrollments=set(enrolled)))
            yield from self._fan_out_courses(courses)
        else:
            swept = yield from self._profile_sweep(state)
            missing: list[str] = []
            for uid in sorted(self.signals.profiles - set(user_ids) - swept):
                user = self.api.get(
                    f"/v2/users/{uid}",
                    missing_ok=True,
                    on_missing=lambda uid=uid: missing.append(uid),
                )
                if user:
                    yield _users([user])
            yield from self._not_found_rows(missing)
            started = yield from self._fan_out_learners(self.signals.learners(), self.signals)
            yield from self._grades_for(started)

        for name, window in windows.items():
            window.save(state, name)
        state["webhook_offsets"] = offsets
        state["backfilled"] = True

    def _profile_sweep(self, state: Any) -> Iterator[Any]:
        """Every learner's profile, re-read once per `profile_sweep_s`: LearnWorlds has no
        "modified since" filter, so without webhooks this is how profile edits made in the
        school (a phone, a custom field) reach the warehouse. Returns the ids re-read."""
        now = time.time()
        last = float(state.get("profiles_swept_at") or 0.0)
        if self.profile_sweep_s is None or now - last < self.profile_sweep_s:
            return set()
        seen: set[str] = set()
        params = {"items_per_page": PAGE_SIZE, "include_suspended": "true"}
        for page in self.api.pages("/v2/users", params):
            seen.update(str(u["id"]) for u in page if u.get("id") is not None)
            report(self.progress, "lms:profiles", len(seen), None)
            yield _users(page)
        yield _sweep_row(now, len(seen))
        state["profiles_swept_at"] = now
        return seen

    def _feed(
        self,
        table: str,
        path: str,
        window: _Window,
        since_param: str,
        params: dict[str, Any],
        ids_out: list[str] | None,
    ) -> Iterator[Any]:
        since = window.since()
        if since is not None:
            params = {**params, since_param: since}
        done = 0
        for page in self.api.pages(path, params):
            rows = []
            for row in page:
                key = self._feed_key(table, row)
                is_new = window.observe(key, row.get("created"))
                if ids_out is not None and row.get("id") is not None:
                    ids_out.append(str(row["id"]))
                if not is_new:
                    continue  # re-read inside the overlap and already landed
                if table == "event_logs":
                    self.signals.from_event_log(row)
                elif table == "payments":
                    self.signals.from_payment(row)
                rows.append(row)
            done += len(rows)
            report(self.progress, f"lms:{table}", done, None)
            if rows:
                yield _users(rows) if table == "users" else _rows(table, rows)

    @staticmethod
    def _feed_key(table: str, row: dict[str, Any]) -> str:
        if table == "event_logs":
            return str(with_event_log_id(row)["event_log_id"])
        return str(row.get("id"))

    def _webhooks(self, offsets: dict[str, int]) -> Iterator[Any]:
        count = 0
        for chunk in landing.read_new(self.landing_dir, offsets):
            for event in chunk.events:
                self.signals.from_webhook(event)
            count += len(chunk.events)
            report(self.progress, "lms:webhooks", count, None)
            yield _rows("webhook_events", chunk.events)
            offsets[chunk.file] = chunk.end_offset

    def _rosters(self, courses: list[str]) -> list[str]:
        """Every learner enrolled in some course, from the course rosters (200 per call).

        Returns them sorted: the learners whose enrollments and progress exist at all.
        """
        enrolled: set[str] = set()
        params = {"items_per_page": PAGE_SIZE}
        for i, cid in enumerate(courses, 1):
            for page in self.api.pages(f"/v2/courses/{cid}/users", params, missing_ok=True):
                enrolled.update(str(u["id"]) for u in page if u.get("id") is not None)
            report(self.progress, "lms:rosters", i, len(courses))
        return sorted(enrolled)

    def _fan_out_learners(self, learners: list[str], due: Signals) -> Iterator[Any]:
        """The per-learner reads each learner is due: enrollments, progress, certificates.

        Returns {course_id: learner ids} for the grades step: the started courses of the
        learners whose learning (not just an enrollment) was signalled.
        """
        started: dict[str, set[str]] = {}
        missing: list[str] = []
        progress_due = due.progress()
        for i, uid in enumerate(learners, 1):
            if uid in due.enrollments:
                enrollments = self.api.pages(
                    f"/v2/users/{uid}/courses",
                    missing_ok=True,
                    on_missing=lambda uid=uid: missing.append(uid),
                )
                for page in enrollments:
                    rows = [enrollment_row(uid, e) for e in page]
                    yield _rows("enrollments", [r for r in rows if r["course_id"]])
            if uid in progress_due and uid not in missing:
                params = {"items_per_page": PAGE_SIZE}
                # No on_missing: LearnWorlds is reported to answer 404 here for a learner
                # with no progress, so only the other reads tell a deleted learner.
                for page in self.api.pages(f"/v2/users/{uid}/progress", params, missing_ok=True):
                    rows = [progress_row(uid, p) for p in page if p.get("course_id")]
                    for row in rows:
                        # A course not started has no submissions, so no grades to look for.
                        if uid in due.learning and row.get("status") != "not_started":
                            started.setdefault(str(row["course_id"]), set()).add(uid)
                    yield _rows("user_progress", rows)
            if uid in due.certificates and uid not in missing:
                for page in self.api.pages("/v2/certificates", {"user_id": uid}):
                    yield _rows("certificates", page)
            report(self.progress, "lms:learners", i, len(learners))
        yield from self._not_found_rows(missing)
        return started

    def _not_found_rows(self, user_ids: list[str]) -> Iterator[Any]:
        """Learners that answered 404 (deleted in the school), each once per run."""
        new = [uid for uid in dict.fromkeys(user_ids) if uid not in self.not_found]
        self.not_found.update(new)
        if new:
            now = time.time()
            yield _rows("user_not_found", [{"user_id": uid, "detected_at": now} for uid in new])

    def _fan_out_courses(self, courses: list[str]) -> Iterator[Any]:
        for i, cid in enumerate(courses, 1):
            for page in self.api.pages("/v2/certificates", {"course_id": cid}):
                yield _rows("certificates", page)
            yield from self._grades(cid, None)
            report(self.progress, "lms:courses_fan_out", i, len(courses))

    def _grades_for(self, started: dict[str, set[str]]) -> Iterator[Any]:
        """Grades of the named learners, one call per course for up to 50 of them."""
        for cid, users in sorted(started.items()):
            ordered = sorted(users)
            for start in range(0, len(ordered), GRADE_USERS_PER_CALL):
                yield from self._grades(cid, ordered[start : start + GRADE_USERS_PER_CALL])

    def _grades(self, course_id: str, users: list[str] | None) -> Iterator[Any]:
        params: dict[str, Any] = {"items_per_page": PAGE_SIZE}
        if users:
            params["users"] = ",".join(users)
        for page in self.api.pages(f"/v2/courses/{course_id}/grades", params, missing_ok=True):
            yield _rows("grades", [{**g, "course_id": course_id} for g in page])


def enrollment_row(user_id: str, row: dict[str, Any]) -> dict[str, Any]:
    course = row.get("course") if isinstance(row.get("course"), dict) else {}
    return {
        "user_id": user_id,
        "course_id": course.get("id") or row.get("course_id"),
        "created": row.get("created"),
        "expires": row.get("expires"),
    }


def progress_row(user_id: str, row: dict[str, Any]) -> dict[str, Any]:
    # The per-unit breakdown is large and nothing downstream reads it.
    return {k: v for k, v in row.items() if k != "progress_per_section_unit"} | {"user_id": user_id}


@dlt.source(name="lms", max_table_nesting=MAX_TABLE_NESTING)
def lms_source(
    api: LmsApi,
    landing_dir: Path,
    full: bool = False,
    progress: Progress | None = None,
    profile_sweep_s: float | None = None,
) -> DltResource:
    run = _LmsRun(api, landing_dir, full, progress, profile_sweep_s)

    def lms_api() -> Iterator[Any]:
        yield from run.run()

    return dlt.resource(lms_api, write_disposition="merge")
