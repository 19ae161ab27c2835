"""row_hash is stored in sync_state: its bytes must not move, or every row re-syncs once."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from reverse_etl.plan import row_hash


def reference(payload: Any) -> str:
    """How row_hash was computed when today's sync_state rows were written."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def test_row_hash_is_the_canonical_json_it_always_was() -> None:
    payload = {
        "target": ["update", "501"],
        "properties": {"z": "Zoë ✓ 𝄞", "a": None, "n": "0.30000000000000004", "e": ""},
        "links": [("companies", "7", 1, "HUBSPOT_DEFINED")],
        "odd": [date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, tzinfo=UTC), Decimal("1.50")],
        "nested": {"b": {"y": 1, "x": 2.5}, "a": [True, False]},
    }
    assert row_hash(payload) == reference(payload)
    assert row_hash({"b": 1, "a": 2}) == row_hash({"a": 2, "b": 1})
