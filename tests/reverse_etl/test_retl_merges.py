"""Contact state re-pointed to the survivor of a HubSpot merge (pure, no emulator)."""

from __future__ import annotations

import duckdb

from reverse_etl.merges import load_merges, repoint
from reverse_etl.plan import ConfirmedState


def test_state_on_a_merged_away_contact_moves_to_the_survivor_unconfirmed() -> None:
    state = {
        "learner-a": ConfirmedState("101", "hash-a", {"lms_source": "learnworlds"}),
        "learner-b": ConfirmedState("102", "hash-b", {"lms_source": "learnworlds"}),
        "learner-c": ConfirmedState(None, "hash-c", {}),
    }
    moved, count = repoint(state, {"101": "103", "104": "103"})
    assert count == 1
    # The survivor never confirmed our values: empty hash and properties force a full send.
    assert moved["learner-a"] == ConfirmedState("103", "", {})
    assert moved["learner-b"] == state["learner-b"]
    assert moved["learner-c"] == state["learner-c"]


def test_merges_are_read_from_the_dbt_table_and_empty_before_it_exists() -> None:
    con = duckdb.connect(":memory:")
    assert load_merges(con) == {}
    con.execute("create schema intermediate")
    con.execute(
        "create table intermediate.int_contact_merges as "
        "select * from (values ('1', '3'), ('2', '3')) as t(merged_contact_id, survivor_contact_id)"
    )
    assert load_merges(con) == {"1": "3", "2": "3"}
