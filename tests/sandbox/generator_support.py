"""Readers for generated datasets, used by the generator tests."""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


def jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as handle:
        for line in handle:
            yield orjson.loads(line)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def norm(email: str) -> str:
    return unicodedata.normalize("NFKC", email.strip().lower())


def truth(out: Path) -> list[dict[str, str]]:
    return csv_rows(out / "ground_truth" / "learners.csv")
