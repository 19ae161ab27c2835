"""Two-way sync state in schema `reverse_etl`: agreed field values, learner creations,
mapping checks.

`field_state` holds, per learner and mapping, the value both sides last agreed on, the last
value the LMS refused, and which side we last wrote and when (a copy of that side read
before then cannot show our write yet: LearnWorlds users are re-read only when a webhook or a
resync says so). `learner_creations` makes creating a learner exactly-once: a row
is written (pending) before the POST and completed after it, so a run killed in between
finds the pending row and adopts the learner LearnWorlds made instead of making another.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import duckdb

from lmsbridge_core.warehouse import table_exists
from reverse_etl.field_plan import Recorded
from reverse_etl.mappings import MappingCheck
from reverse_etl.state import now

Row = tuple[str, str, str, str, str | None]

DDL = """
create schema if not exists reverse_etl;
create table if not exists reverse_etl.field_state (
    learner_key text not null,
    mapping_key text not null,
    lms_user_id text,
    hubspot_contact_id text,
    agreed_value text,
    rejected_value text,
    written_to text,
    written_at timestamptz,
    updated_at timestamptz not null,
    primary key (learner_key, mapping_key)
);
create table if not exists reverse_etl.learner_creations (
    hubspot_contact_id text primary key,
    email text not null,
    status text not null,
    lms_user_id text,
    requested_at timestamptz not null,
    created_at timestamptz
);
create table if not exists reverse_etl.field_mapping_checks (
    mapping_key text primary key,
    lms_field text not null,
    hubspot_property text not null,
    direction text not null,
    valid boolean not null,
    problem text,
    checked_at timestamptz not null
);
"""

State = dict[tuple[str, str], Recorded]


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def load(con: duckdb.DuckDBPyConnection) -> State:
    if not table_exists(con, "reverse_etl", "field_state"):
        return {}
    rows = con.execute(
        "select learner_key, mapping_key, agreed_value, rejected_value, written_to, written_at "
        "from reverse_etl.field_state"
    ).fetchall()
    return {(k, m): Recorded(*values) for k, m, *values in rows}


_COLUMNS = ["learner_key", "mapping_key", "lms_user_id", "hubspot_contact_id", "value"]


def _upsert(
    con: duckdb.DuckDBPyConnection,
    rows: list[Row],
    *,
    agreed: bool,
    written_to: str | None = None,
) -> None:
    """One statement per batch: record each row's value as agreed (with where we wrote it,
    forgetting any refusal) or as refused (keeping the agreement)."""
    if not rows:
        return
    spec = json.dumps([dict.fromkeys(_COLUMNS, "VARCHAR")])
    payload = json.dumps([dict(zip(_COLUMNS, row, strict=True)) for row in rows])
    if agreed:
        values = (
            "r.value, null, cast(? as varchar), "
            "case when cast(? as varchar) is null then null else now() end"
        )
        update = (
            "agreed_value = excluded.agreed_value, rejected_value = null, "
            "written_to = excluded.written_to, written_at = excluded.written_at"
        )
        params: list[object] = [written_to, written_to]
    else:
        values = "null, r.value, null, null"
        update = "rejected_value = excluded.rejected_value"
        params = []
    con.execute(
        f"""
        insert into reverse_etl.field_state
            (learner_key, mapping_key, lms_user_id, hubspot_contact_id, agreed_value,
             rejected_value, written_to, written_at, updated_at)
        select r.learner_key, r.mapping_key, r.lms_user_id, r.hubspot_contact_id,
               {values}, now()
        from (select unnest(from_json(?::json, ?)) as r)
        on conflict (learner_key, mapping_key) do update set
            {update},
            lms_user_id = excluded.lms_user_id,
            hubspot_contact_id = excluded.hubspot_contact_id,
            updated_at = excluded.updated_at
        """,
        [*params, payload, spec],
    )


def agree(
    con: duckdb.DuckDBPyConnection, rows: Iterable[Row], written_to: str | None = None
) -> None:
    """Record (learner_key, mapping_key, lms_user_id, hubspot_contact_id, value) as agreed,
    after our write to `written_to` ('lms' or 'hubspot') or as seen on both sides (None)."""
    if written_to not in (None, "lms", "hubspot"):
        raise ValueError(f"written_to {written_to!r}")
    _upsert(con, list(rows), agreed=True, written_to=written_to)


def refuse(con: duckdb.DuckDBPyConnection, rows: Iterable[Row]) -> None:
    """Remember a value the LMS refused, so it is not sent again until it changes."""
    _upsert(con, list(rows), agreed=False)


def record_checks(con: duckdb.DuckDBPyConnection, checks: list[MappingCheck]) -> None:
    con.execute("delete from reverse_etl.field_mapping_checks")
    stamp = now()
    for check in checks:
        m = check.mapping
        con.execute(
            "insert into reverse_etl.field_mapping_checks values (?, ?, ?, ?, ?, ?, ?)",
            [m.key, m.lms, m.hubspot, m.direction, check.valid, check.problem, stamp],
        )


def invalid_mappings(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(mapping, problem) of the last check, for `lmsbridge status`."""
    if not table_exists(con, "reverse_etl", "field_mapping_checks"):
        return []
    return [
        (str(k), str(p))
        for k, p in con.execute(
            "select mapping_key, problem from reverse_etl.field_mapping_checks "
            "where not valid order by mapping_key"
        ).fetchall()
    ]


# --- learner creation ------------------------------------------------------------------


def creations(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    """hubspot_contact_id -> (status, lms_user_id)."""
    if not table_exists(con, "reverse_etl", "learner_creations"):
        return {}
    return {
        c: (s, u)
        for c, s, u in con.execute(
            "select hubspot_contact_id, status, lms_user_id from reverse_etl.learner_creations"
        ).fetchall()
    }


def creation_pending(con: duckdb.DuckDBPyConnection, contact_id: str, email: str) -> None:
    con.execute(
        "insert into reverse_etl.learner_creations values (?, ?, 'pending', null, ?, null) "
        "on conflict (hubspot_contact_id) do nothing",
        [contact_id, email, now()],
    )


def creation_done(
    con: duckdb.DuckDBPyConnection, contact_id: str, status: str, lms_user_id: str | None
) -> None:
    con.execute(
        "update reverse_etl.learner_creations set status = ?, lms_user_id = ?, created_at = ? "
        "where hubspot_contact_id = ?",
        [status, lms_user_id, now(), contact_id],
    )
