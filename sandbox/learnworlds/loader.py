"""Load a generated dataset directory (docs/contracts.md section 1, `lms/*.jsonl`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from sandbox.learnworlds.store import Store, progress_from


class DatasetError(ValueError):
    """A dataset file that cannot be read; names the file and line."""


def _records(path: Path) -> Iterator[dict[str, Any]]:
    for record, _ in _records_with_raw(path):
        yield record


def _records_with_raw(path: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
    """Each record with its own line, which the store keeps as the record's JSON."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise DatasetError(f"{path.name} line {number}: not JSON ({exc})") from None
            if not isinstance(record, dict):
                raise DatasetError(f"{path.name} line {number}: expected a JSON object")
            yield record, line.strip()


def load_into(store: Store, dataset_dir: Path) -> dict[str, int]:
    """Replace the store's contents with the dataset's `lms/` files; return the counts."""
    lms = Path(dataset_dir) / "lms"
    if not lms.is_dir():
        raise DatasetError(f"no lms/ directory in {dataset_dir}")
    store.clear()
    store.bulk_loading = True
    # Millions of long-lived tuples make every full collection rescan them all: collect
    # nothing while loading, then freeze the loaded objects out of later collections.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for course in _records(lms / "courses.jsonl"):
            store.put_course(course)
        for user, raw in _records_with_raw(lms / "users.jsonl"):
            store.put_user(user, raw)
        for row in _records(lms / "enrollments.jsonl"):
            store.put_enrollment(
                str(row["user_id"]), str(row["course_id"]), row.get("created"), row.get("expires")
            )
        for row in _records(lms / "progress.jsonl"):
            store.put_progress(str(row["user_id"]), str(row["course_id"]), progress_from(row))
        for cert, raw in _records_with_raw(lms / "certificates.jsonl"):
            store.add_certificate(cert, raw)
        for payment, raw in _records_with_raw(lms / "payments.jsonl"):
            store.add_payment(payment, raw)
        for grade in _records(lms / "grades.jsonl"):
            store.add_grade(grade)
        for event, raw in _records_with_raw(lms / "event_logs.jsonl"):
            store.add_event_log(event, raw)
    except (KeyError, TypeError) as exc:
        store.clear()
        raise DatasetError(f"dataset record missing or mistyped field: {exc}") from None
    finally:
        if gc_was_enabled:
            gc.enable()
    store.sort_all()
    gc.freeze()
    return store.counts()
