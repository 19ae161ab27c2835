"""History CSV import (DESIGN.md canonical columns) into raw_lms_files.

Each row is validated on its own: a bad row becomes a rejected_rows record with its file,
line, reason and category, and the good rows of the same file still land. Rows are split
from the file's bytes here (not by the csv module over decoded text) so that a bad byte, an
oversized field or a stray U+2028 only affects its own row, and `source_line`/`raw_line` are
the physical lines and exact text an operator finds in the file.

A file whose exact bytes were loaded before is skipped (content hash in dlt state); anything
else merges on event_key, so re-importing a file adds nothing. A file that cannot be read or
parsed at all is logged and left out of the state, so the next run tries it again, and the
other files still land.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dlt
from dlt.extract.resource import DltResource
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from extract.result import Progress, report
from lmsbridge_core.settings import MIB

log = logging.getLogger(__name__)

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
    # One of CATEGORIES, for counting by kind; added later, so null on rows from older runs.
    "category": {"data_type": "text"},
    "raw_line": {"data_type": "text"},
    "rejected_at": {"data_type": "timestamp"},
}

# rejected_rows.category values.
INVALID = "invalid"  # a value failed validation (email, event type, score, time)
MALFORMED = "malformed"  # the row's CSV structure is wrong (field count, unterminated quote)
ENCODING = "encoding"  # bytes that are not UTF-8
TOO_LARGE = "too_large"  # a field over LMSBRIDGE_CSV_MAX_FIELD_BYTES
FUTURE_DATED = "future_dated"  # occurred_at more than FUTURE_TOLERANCE after the import
HEADER = "header"  # the header makes the whole file unusable (line 1, nothing of it lands)
CATEGORIES = (INVALID, MALFORMED, ENCODING, TOO_LARGE, FUTURE_DATED, HEADER)

# Clock skew and time zones put genuine events a few hours ahead; 2099 is a typo.
FUTURE_TOLERANCE = timedelta(days=1)
# An oversized row is kept in rejected_rows only this far, so one bad row cannot bloat it.
RAW_LINE_KEEP = 64 * 1024
_LINE_BREAK = re.compile(rb"\r\n|\n|\r")
_BOM = b"\xef\xbb\xbf"


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
            raise ValueError(f"unknown event type {value[:80]!r}")
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
            raise ValueError(
                f"unparseable time {text[:80]!r} (want ISO-8601 or unix seconds)"
            ) from exc
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


def _still_quoted(line: bytes, inside: bool) -> bool:
    """Whether a record is inside a quoted field at the end of this physical line.

    Follows the csv module's default (excel) dialect: a quote opens a quoted field only at
    the start of a field, `""` inside one is a literal quote, and text after a closing quote
    runs on to the next comma. Only lines holding a quote pay for the scan.
    """
    if b'"' not in line:
        return inside
    i, n = 0, len(line)
    while i < n:
        if inside:
            j = line.find(b'"', i)
            if j < 0:
                return True
            if line[j + 1 : j + 2] == b'"':
                i = j + 2
                continue
            inside = False
            i = j + 1
        elif line[i : i + 1] == b'"':
            inside = True
            i += 1
            continue
        comma = line.find(b",", i)
        if comma < 0:
            return False
        i = comma + 1
    return inside


class _Record:
    """One CSV record: its first physical line number and its exact bytes, line breaks kept."""

    __slots__ = ("first_line", "lines", "offset", "unterminated")

    def __init__(self, first_line: int, offset: int) -> None:
        self.first_line = first_line
        self.offset = offset  # byte offset of the record in the file
        self.lines: list[bytes] = []  # physical lines, each with its own line break
        self.unterminated = False  # a quoted field still open at the end of the file

    @property
    def raw(self) -> bytes:
        return b"".join(self.lines)

    def text(self) -> str:
        """The record as it is in the file, minus its final line break, bad bytes escaped."""
        raw = self.raw
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        elif raw.endswith((b"\n", b"\r")):
            raw = raw[:-1]
        return raw.decode("utf-8", errors="backslashreplace")


def _records(content: bytes) -> Iterator[_Record]:
    """Records of the file by physical lines (\\r\\n, \\n or \\r; never U+2028 and kin)."""
    pos = len(_BOM) if content.startswith(_BOM) else 0
    number = 0
    record: _Record | None = None
    inside = False
    length = len(content)
    while pos < length:
        match = _LINE_BREAK.search(content, pos)
        end = match.end() if match else length
        line = content[pos:end]
        number += 1
        if record is None:
            record = _Record(number, pos)
        record.lines.append(line)
        inside = _still_quoted(line[: match.start() - pos] if match else line, inside)
        pos = end
        if not inside:
            yield record
            record = None
    if record is not None:
        record.unterminated = True
        yield record


def _decode(record: _Record) -> list[str] | str:
    """The record's lines as text, or why it is not UTF-8 (naming the file offset)."""
    lines: list[str] = []
    offset = record.offset
    for number, line in enumerate(record.lines, record.first_line):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            bad = line[exc.start]
            return (
                f"not UTF-8: byte 0x{bad:02x} at file offset {offset + exc.start}"
                f" (line {number}, column {exc.start + 1}; {exc.reason})"
            )
        offset += len(line)
    return lines


def _fields(lines: list[str]) -> list[str] | str:
    """The record's fields, or why the csv module could not read them."""
    try:
        rows = list(csv.reader(lines))
    except csv.Error as exc:
        return f"unreadable CSV: {exc}"
    if len(rows) != 1:
        return "unreadable CSV: unbalanced quotes"
    return rows[0]


def _too_large(record: _Record, fields: list[str], header: list[str], cap: int) -> str | None:
    if len(record.raw) <= cap:
        return None
    for i, value in enumerate(fields):
        size = len(value.encode("utf-8"))
        if size > cap:
            column = header[i] if i < len(header) else f"column {i + 1}"
            return f"{column}: field is {size} bytes, over LMSBRIDGE_CSV_MAX_FIELD_BYTES ({cap})"
    return None


def _raw_for(record: _Record, category: str) -> str:
    text = record.text()
    if category == TOO_LARGE and len(text) > RAW_LINE_KEEP:
        return f"{text[:RAW_LINE_KEEP]}... [truncated, {len(record.raw)} bytes]"
    return text


def _check_header(header: list[str]) -> str | None:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return f"header lacks columns: {', '.join(missing)}"
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header, 1):
        positions.setdefault(name, []).append(i)
    # Repeats of columns we read make the mapping ambiguous; repeats we ignore do not.
    repeated = [
        f"{name} (columns {', '.join(map(str, at))})"
        for name, at in positions.items()
        if len(at) > 1 and name in COLUMNS
    ]
    if repeated:
        return f"header repeats columns: {'; '.join(repeated)}; which one to read is ambiguous"
    return None


def parse_file(
    name: str,
    content: bytes,
    *,
    max_field_bytes: int = MIB,
    now: datetime | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Good rows and rejected rows of one CSV file (pure: no I/O)."""
    now = now or datetime.now(UTC)
    latest = now + FUTURE_TOLERANCE
    # csv's per-field limit is process-wide; only ever raised, so no other reader is hurt.
    if csv.field_size_limit() < max_field_bytes:
        csv.field_size_limit(max_field_bytes)

    def reject(record: _Record, category: str, reason: str) -> dict[str, Any]:
        return {
            "source_file": name,
            "source_line": record.first_line,
            "reason": reason,
            "category": category,
            "raw_line": _raw_for(record, category),
            "rejected_at": now,
        }

    records = _records(content)
    first = next(records, None)
    if first is None:
        return [], []
    decoded = _decode(first)
    parsed = _fields(decoded) if isinstance(decoded, list) else f"header is {decoded}"
    if first.unterminated:
        parsed = "header opens a quoted field that is never closed"
    if isinstance(parsed, str):
        return [], [reject(first, HEADER, parsed)]
    header = [h.strip() for h in parsed]
    problem = _check_header(header)
    if problem:
        return [], [reject(first, HEADER, problem)]

    good: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for record in records:
        if not record.raw.strip(b"\r\n"):
            continue  # blank line, as csv.DictReader skips them
        if record.unterminated:
            reason = f"quoted field opened on line {record.first_line} is never closed"
            bad.append(reject(record, MALFORMED, reason))
            continue
        decoded = _decode(record)
        if isinstance(decoded, str):
            bad.append(reject(record, ENCODING, decoded))
            continue
        fields = _fields(decoded)
        if isinstance(fields, str):
            bad.append(reject(record, MALFORMED, fields))
            continue
        oversized = _too_large(record, fields, header, max_field_bytes)
        if oversized:
            bad.append(reject(record, TOO_LARGE, oversized))
            continue
        if len(fields) > len(header):
            bad.append(reject(record, MALFORMED, "more fields than header columns"))
            continue
        values: dict[str, str | None] = dict.fromkeys(header)
        values.update(zip(header, fields, strict=False))
        try:
            row = HistoryRow.model_validate(values)
        except ValidationError as exc:
            bad.append(reject(record, INVALID, _reason(exc)))
            continue
        if row.occurred_at > latest:
            bad.append(
                reject(
                    record,
                    FUTURE_DATED,
                    f"occurred_at: {row.occurred_at.isoformat()} is in the future"
                    f" (more than {FUTURE_TOLERANCE.days} day after the import)",
                )
            )
            continue
        good.append(
            {
                **row.model_dump(),
                "event_key": row.event_key(),
                "source_file": name,
                "source_line": record.first_line,
            }
        )
    return good, bad


# Same shape as extract.lms_tables.LMS_TABLES.
CSV_TABLES: dict[str, dict[str, Any]] = {
    "lms_history_events": {"primary_key": "event_key", "columns": _EVENT_COLUMNS},
    "rejected_rows": {"primary_key": ["source_file", "source_line"], "columns": _REJECT_COLUMNS},
}


def _hinted(table: str, rows: list[dict[str, Any]]) -> Any:
    declared = CSV_TABLES[table]
    hints = dlt.mark.make_hints(
        table_name=table,
        write_disposition="merge",
        primary_key=declared["primary_key"],
        columns=declared["columns"],
    )
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


@dlt.source(name="lms_files")
def csv_source(
    csv_dir: Path,
    progress: Progress | None = None,
    *,
    max_field_bytes: int = MIB,
    now: datetime | None = None,
) -> DltResource:
    """`now` fixes the import time (rejected_at, the future-date limit) for a dataset landed
    as of a given moment; the scheduled import leaves it to the clock."""

    def rows() -> Iterator[Any]:
        # The hash lives in dlt state, so it commits with the load package holding the rows.
        state = dlt.current.source_state()
        loaded = state.setdefault("loaded_hashes", {})
        failed = state.setdefault("failed_files", {})
        paths = sorted(csv_dir.glob("*.csv")) if csv_dir.is_dir() else []
        for i, path in enumerate(paths, 1):
            report(progress, "csv:files", i, len(paths))
            try:
                content = path.read_bytes()
                digest = hashlib.sha256(content).hexdigest()
                if digest in loaded:
                    failed.pop(path.name, None)
                    continue
                good, bad = parse_file(path.name, content, max_field_bytes=max_field_bytes, now=now)
            except Exception as exc:  # one broken file must not stop the others
                # Not recorded as loaded, so the next run reads it again.
                failed[path.name] = f"{type(exc).__name__}: {exc}"
                log.error("history CSV %s skipped this run (%s: %s)", path, type(exc).__name__, exc)
                continue
            if good:
                yield _hinted("lms_history_events", good)
            if bad:
                yield _hinted("rejected_rows", bad)
            loaded[digest] = path.name
            failed.pop(path.name, None)

    return dlt.resource(rows, name="history_csv", write_disposition="merge")
