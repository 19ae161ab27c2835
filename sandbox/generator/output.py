"""Streaming writers for the dataset files; they count rows for the manifest."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, BinaryIO

import orjson

_NL = orjson.OPT_APPEND_NEWLINE
_BUFFER = 1 << 20

JSONL_FILES = (
    "hubspot/owners.jsonl",
    "hubspot/properties.jsonl",
    "hubspot/companies.jsonl",
    "hubspot/contacts.jsonl",
    "hubspot/deals.jsonl",
    "hubspot/calls.jsonl",
    "hubspot/emails.jsonl",
    "hubspot/meetings.jsonl",
    "hubspot/associations.jsonl",
    "lms/users.jsonl",
    "lms/courses.jsonl",
    "lms/enrollments.jsonl",
    "lms/progress.jsonl",
    "lms/certificates.jsonl",
    "lms/payments.jsonl",
    "lms/grades.jsonl",
    "lms/event_logs.jsonl",
)
HISTORY_FILE = "history/lms_history.csv"
TRUTH_FILE = "ground_truth/learners.csv"

HISTORY_COLUMNS = (
    "learner_email",
    "lms_user_id",
    "course_id",
    "course_name",
    "event_type",
    "score",
    "occurred_at",
    "lms",
    "external_event_id",
)
TRUTH_COLUMNS = (
    "lms_user_id",
    "email",
    "true_contact_id",
    "true_company_id",
    "ambiguous",
    "ambiguity_reason",
    # Beyond the contract: what the case is and which rule should decide it.
    "mess",
    "match_method",
    "company_match_method",
)


class JsonlFile:
    def __init__(self, path: Path) -> None:
        self._fh: BinaryIO = path.open("wb", buffering=_BUFFER)
        self.rows = 0

    def write(self, record: dict[str, Any]) -> None:
        self._fh.write(orjson.dumps(record, option=_NL))
        self.rows += 1

    def close(self) -> None:
        self._fh.close()


class CsvFile:
    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        # newline="" lets the csv module write RFC 4180 line endings itself.
        self._fh = path.open("w", encoding="utf-8", newline="", buffering=_BUFFER)
        self._writer = csv.writer(self._fh)
        self._writer.writerow(columns)
        self.rows = 0

    def write(self, row: list[Any] | tuple[Any, ...]) -> None:
        self._writer.writerow(row)
        self.rows += 1

    def close(self) -> None:
        self._fh.close()


class DatasetFiles:
    """All output files of one dataset, opened together and closed together."""

    def __init__(self, out: Path) -> None:
        for sub in ("hubspot", "lms", "history", "ground_truth"):
            (out / sub).mkdir(parents=True, exist_ok=True)
        self.jsonl = {name: JsonlFile(out / name) for name in JSONL_FILES}
        self.history = CsvFile(out / HISTORY_FILE, HISTORY_COLUMNS)
        self.truth = CsvFile(out / TRUTH_FILE, TRUTH_COLUMNS)

    def __getitem__(self, name: str) -> JsonlFile:
        return self.jsonl[name]

    def counts(self) -> dict[str, int]:
        counts = {name: f.rows for name, f in self.jsonl.items()}
        counts[HISTORY_FILE] = self.history.rows
        counts[TRUTH_FILE] = self.truth.rows
        return counts

    def close(self) -> None:
        for f in self.jsonl.values():
            f.close()
        self.history.close()
        self.truth.close()
