"""Durable landing files for webhook deliveries: appended by the receiver, read by the extract.

One JSON object per line in `events-YYYY-MM-DD.jsonl`. The reader only consumes complete
lines and reports the byte offset it reached, which the extract keeps in dlt state so each
line is loaded exactly once (the offset commits together with the load).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

FILE_GLOB = "events-*.jsonl"


class UnstorableEvent(ValueError):
    """The event parsed but cannot be written as one JSON line (too deep, integer over 64 bits,
    lone surrogate); the sender gets a 400 instead of a landing file the reader cannot parse."""


def delivery_id(body: bytes) -> str:
    """Same body, same id: a redelivered webhook merges onto its first copy."""
    return hashlib.sha256(body).hexdigest()


class LandingWriter:
    """Appends accepted events; one writer at a time, fsynced before the receiver answers 2xx."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def append(self, event: dict[str, Any], body: bytes, now: datetime | None = None) -> str:
        received = (now or datetime.now(UTC)).astimezone(UTC)
        record = {
            **event,
            "delivery_id": delivery_id(body),
            "received_at": received.isoformat(timespec="microseconds"),
        }
        try:
            line = orjson.dumps(record) + b"\n"
        except orjson.JSONEncodeError as exc:
            raise UnstorableEvent(f"event cannot be stored as JSON: {exc}") from None
        path = self.directory / f"events-{received:%Y-%m-%d}.jsonl"
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return record["delivery_id"]


@dataclass
class LandedChunk:
    file: str
    end_offset: int
    events: list[dict[str, Any]]


def read_new(directory: Path, offsets: dict[str, int]) -> Iterator[LandedChunk]:
    """Complete lines past each file's recorded offset; a half-written tail waits for next time."""
    if not directory.is_dir():
        return
    for path in sorted(directory.glob(FILE_GLOB)):
        start = int(offsets.get(path.name, 0))
        with path.open("rb") as fh:
            fh.seek(start)
            data = fh.read()
        complete = data[: data.rfind(b"\n") + 1]
        if not complete:
            continue
        events = [orjson.loads(line) for line in complete.splitlines() if line.strip()]
        yield LandedChunk(path.name, start + len(complete), events)
