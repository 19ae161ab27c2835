"""The history CSV import must accept every learning event type the warehouse keeps.

Two lists on purpose: `EVENT_TYPES` is what a history file may contain (a few types are
accepted and not kept), the event_types seed is what the models keep; of the seed, only
learning events (in_learning_events true) are read from history files, learner account events
(signing up, tags, ...) come from the API and webhooks. The extract cannot read the seed (it
ships without the dbt project), so this test keeps the first a superset of those.
"""

from __future__ import annotations

import csv
from pathlib import Path

from extract.csv_source import EVENT_TYPES

SEED = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "event_types.csv"


def test_every_kept_event_type_is_accepted_from_history_files() -> None:
    with SEED.open(newline="", encoding="utf-8") as handle:
        kept = {
            row["event_type"]
            for row in csv.DictReader(handle)
            if row["in_learning_events"].strip().lower() == "true"
        }
    assert kept, f"{SEED} lists no event types"
    missing = sorted(kept - EVENT_TYPES)
    assert not missing, (
        f"event types in {SEED.name} that a history CSV row would be rejected for: {missing}; "
        "add them to EVENT_TYPES in extract/csv_source.py"
    )
