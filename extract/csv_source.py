"""History CSV import (DESIGN.md canonical columns) into raw_lms_files.

Each row is validated on its own: a bad row becomes a rejected_rows record with its file,
line and reason, and the good rows of the same file still land. A file whose exact bytes
were loaded before is skipped (content hash in dlt state); anything else merges on event_key,
so re-importing a file adds nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.extract.resource import DltResource
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from extract.result import Progress, report

EVENT_TYPES = frozenset(
    {
        "enrolled",
        "completed",
        "assessment_passed",
        "assessment_failed",
        "certificate_issued",
        "purchase",
        "unenrolled",
        "progress",
    }
)
REQUIRED = ("learner_email", "course_id", "event_type", "occurred_at")
COLUMNS = (*REQUIRED, "lms_user_id", "course_name", "score", "lms", "external_event_id")

_EVENT_COLUMNS = {
    "event_key": {"data_type": "text", "nullable": False},
    "learner_email": {"data_type": "text"},
    "lms_user_id": {"data_type": "text"},
    "course_id": {"data_type": "text"},
    "course_name": {"data_type": "text"},
    "event_type": {"data_type": "text"},
    "score": {"data_type": "double"},
    "occurred_at": {"data_type": "timestamp"},
    "lms": {"data_type": "text"},
    "external_event_id": {"data_type": "text"},
    "source_file": {"data_type": "text"},
    "source_line": {"data_type": "bigint"},
}
_REJECT_COLUMNS = {
    "source_file": {"data_type": "text", "nullable": False},
    "source_line": {"data_type": "bigint", "nullable": False},
    "reason": {"data_type": "text"},
    "raw_line": {"data_type": "text"},
    "rejected_at": {"data_type": "timestamp"},
}


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class HistoryRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    learner_email: str = Field(min_length=3)
    lms_user_id: str | None = None
    course_id: str
    course_name: str | None = None
    event_type: str
    score: float | None = Field(default=None, ge=0, le=100)
    occurred_at: datetime
    lms: str | None = None
    external_event_id: str | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("learner_email")
    @classmethod
    def _email(cls, value: str) -> str:
        local, _, domain = value.partition("@")
        if not local or "." not in domain or "@" in domain or any(c.isspace() for c in value):
            raise ValueError("not an email address")
        return value

    @field_validator("event_type")
    @classmethod
    def _event_type(cls, value: str) -> str:
        if value not in EVENT_TYPES:
            raise ValueError(f"unknown event type {value!r}")
        return value

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _time(cls, value: Any) -> datetime:
        if value is None:
            raise ValueError("missing")
        text = str(value)
        try:
            return datetime.fromtimestamp(float(text), UTC)
        except (ValueError, OverflowError, OSError):
            pass
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"unparseable time {text!r} (want ISO-8601 or unix seconds)") from exc
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def event_key(self) -> str:
        if self.external_event_id:
            return self.external_event_id
        who = self.lms_user_id or self.learner_email.lower()
        parts = (self.lms or "", who, self.course_id, self.event_type, self.occurred_at.isoformat())
        return hashlib.sha1("|".join(parts).encode()).hexdigest()


def _reason(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        where = ".".join(str(x) for x in err["loc"]) or "row"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing" or err.get("input") is None or message == "missing":
            message = "missing"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_file(name: str, content: bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Good rows and rejected rows of one CSV file (pure: no I/O)."""
    now = datetime.now(UTC)

    def reject(line: int, reason: str, raw: str) -> dict[str, Any]:
        return {
            "source_file": name,
            "source_line": line,
            "reason": reason,
            "raw_line": raw,
            "rejected_at": now,
        }

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [reject(1, f"file is not UTF-8 ({exc.reason} at byte {exc.start})", "")]
    lines = text.splitlines()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return [], [
            reject(1, f"header lacks columns: {', '.join(missing)}", lines[0] if lines else "")
        ]

    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    start = 2
    for record in reader:
        line = start
        start = reader.line_num + 1
        raw = "\n".join(lines[line - 1 : reader.line_num])
        if None in record:
            bad.append(reject(line, "more fields than header columns", raw))
            continue
        try:
            row = HistoryRow.model_validate(record)
        except ValidationError as exc:
            bad.append(reject(line, _reason(exc), raw))
            continue
        good.append(
            {
                **row.model_dump(),
                "event_key": row.event_key(),
                "source_file": name,
                "source_line": line,
            }
        )
    return good, bad


_TABLES: dict[str, tuple[str | list[str], dict[str, Any]]] = {
    "lms_history_events": ("event_key", _EVENT_COLUMNS),
    "rejected_rows": (["source_file", "source_line"], _REJECT_COLUMNS),
}


def _hinted(table: str, rows: list[dict[str, Any]]) -> Any:
    key, columns = _TABLES[table]
    hints = dlt.mark.make_hints(
        table_name=table, write_disposition="merge", primary_key=key, columns=columns
    )
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


@dlt.source(name="lms_files")
def csv_source(csv_dir: Path, progress: Progress | None = None) -> DltResource:
    def rows() -> Iterator[Any]:
        # The hash lives in dlt state, so it commits with the load it belongs to.
        loaded = dlt.current.source_state().setdefault("loaded_hashes", {})
        paths = sorted(csv_dir.glob("*.csv")) if csv_dir.is_dir() else []
        for i, path in enumerate(paths, 1):
            content = path.read_bytes()
            digest = hashlib.sha256(content).hexdigest()
            report(progress, "csv:files", i, len(paths))
            if digest in loaded:
                continue
            good, bad = parse_file(path.name, content)
            if good:
                yield _hinted("lms_history_events", good)
            if bad:
                yield _hinted("rejected_rows", bad)
            loaded[digest] = path.name

    return dlt.resource(rows, name="history_csv", write_disposition="merge")
