"""Which contacts learner creation picks: the filter, the consent gate, matched contacts out,
and creations already done never offered again (real DuckDB, no HTTP)."""

from __future__ import annotations

import duckdb
import pytest

from reverse_etl import field_state as fs
from reverse_etl.learner_creation import candidates, pending
from reverse_etl.mappings import LearnerCreation

ROWS = [
    # contact, property, value, has_learner
    ("1", "lifecyclestage", "customer", False),
    ("1", "email", " One@Example.org ", False),
    ("1", "firstname", "Ada", False),
    ("1", "lastname", "Lovelace", False),
    ("1", "lms_consent", "true", False),
    ("2", "lifecyclestage", "Customer", False),
    ("2", "email", "two@example.org", False),
    ("2", "lms_consent", "false", False),
    ("3", "lifecyclestage", "lead", False),
    ("3", "email", "three@example.org", False),
    ("4", "lifecyclestage", "customer", True),
    ("4", "email", "four@example.org", True),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute(
        "create schema marts; create table marts.rev_etl__contact_properties ("
        "hubspot_contact_id text, property text, property_value text, has_learner boolean)"
    )
    con.executemany("insert into marts.rev_etl__contact_properties values (?, ?, ?, ?)", ROWS)
    fs.ensure_tables(con)
    return con


def test_filter_picks_unmatched_contacts_in_the_stage(con: duckdb.DuckDBPyConnection) -> None:
    picked = candidates(con, LearnerCreation(enabled=True))
    assert [(c.hubspot_contact_id, c.email, c.username) for c in picked] == [
        ("1", "one@example.org", "Ada Lovelace"),
        ("2", "two@example.org", "two"),
    ]


def test_consent_gate_keeps_only_consenting_contacts(con: duckdb.DuckDBPyConnection) -> None:
    picked = candidates(con, LearnerCreation(enabled=True, consent_property="lms_consent"))
    assert [c.hubspot_contact_id for c in picked] == ["1"]


def test_done_creations_are_not_offered_again_but_pending_ones_are(
    con: duckdb.DuckDBPyConnection,
) -> None:
    config = LearnerCreation(enabled=True)
    fs.creation_pending(con, "1", "one@example.org")
    fs.creation_pending(con, "2", "two@example.org")
    fs.creation_done(con, "2", "created", "u2")
    # "1" was interrupted between the POST and our record: it is tried again (and adopted).
    assert [c.hubspot_contact_id for c in pending(con, config)] == ["1"]
