"""Which mart rows need planning at all, decided in DuckDB (set-based diff).

Every mart row gets a source hash in SQL: DuckDB's hash of the whole row, salted with the
sync's configuration, so a changed field map re-plans everything. A row whose source hash
equals the one stored with its confirmed state (sync_state.source_hash) would plan as
unchanged; a row remembered as skipped with the same hash would be skipped again for the same
reason. Neither reaches Python. The rest come back whole, together with every row sharing
their record key (so duplicate keys are still refused as before), and go through the same
`build_plan` as always. Planning cost follows the changed rows, not the mart's history.

A plan with nothing to do saves a fingerprint of the sync's state, of the mart (row count and
the sum of the row hashes) and of the dbt build it ran after (lmsbridge_core.build_record:
while that record stands, no dbt invocation and no erase has touched the marts). The next run
finds the same build and state and stops without reading the mart: what a scheduled run whose
build was reused costs. Without a record, equal mart and state fingerprints stop it after that
one scan. Otherwise the mart's count and sum are compared with those of the hashes kept with
the state and the skipped rows: equal, every row is one they hold, and the diff's join is not
run (a new build that left this mart as it was). Only then the diff. Rows skipped again for
the same reason are counted in SQL, and named only for a dry run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from lmsbridge_core import build_record
from lmsbridge_core.warehouse import quote_name
from reverse_etl import state as st
from reverse_etl.config import Sync

HASH = "__lmsbridge_source_hash"


@dataclass(frozen=True)
class Fingerprints:
    mart: str
    state: str
    # the build the mart was read after, salted (None: no build record, e.g. hand-made marts)
    build: str | None = None


@dataclass
class MartRead:
    columns: list[str]
    rows: list[dict[str, Any]]
    # record key -> its source hash, for the rows handed to the planner
    source_hashes: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Skipped rows only counted (a quiet plan that need not name them): not in `skipped`.
    skipped_unlisted: int = 0
    # Update targets of every live (not deleted) row, read or not: a deleted learner's
    # clear must not wipe a contact another learner still writes.
    live_targets: set[str] = field(default_factory=set)
    fingerprints: Fingerprints | None = None
    # True when the fingerprints matched the last quiet plan: nothing was read or compared.
    quiet: bool = False


def mart_columns(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    cursor = con.execute(f"select * from {st.quoted_table(source)} limit 0")
    return [d[0] for d in cursor.description]


def salt(sync: Sync, columns: list[str]) -> str:
    """Changes whenever anything that decides a row's verdict (besides the row) changes."""
    config = sync.model_dump(mode="json")
    return hashlib.sha256(json.dumps([config, columns], sort_keys=True).encode()).hexdigest()


def read_changed(
    con: duckdb.DuckDBPyConnection,
    sync: Sync,
    columns: list[str],
    *,
    has_state: bool,
    list_skipped: bool = True,
) -> MartRead:
    """The rows to plan; the others counted (unchanged) or listed (skipped) from SQL. A quiet
    plan only counts its skipped rows unless `list_skipped` (a dry run names them)."""
    key = f"cast(t.{quote_name(sync.record_key)} as varchar)"
    table = st.quoted_table(sync.source)
    seasoning = salt(sync, columns)
    if not has_state:
        # Nothing remembered to compare with: every row is planned.
        read = MartRead(columns, [])
        _fetch(con, sync, read, f"select t.*, {_HASHED} from {table} as t", seasoning)
        return read
    state = _state_fingerprint(con, sync.name)
    build = _build_fingerprint(con, seasoning)
    if build is not None:
        # Same build as the last quiet plan's, same state: the mart need not be read.
        saved = con.execute(
            "select unchanged from reverse_etl.plan_fingerprints where sync_name = ? "
            "and build_ref = ? and state_fingerprint = ?",
            [sync.name, build, state],
        ).fetchone()
        if saved is not None:
            return _quiet(con, sync, columns, int(saved[0]), list_skipped)
    # One pass over the mart: its row count and the sum of its row hashes.
    marks, total, mart_sum = fingerprints(con, sync, seasoning, state, build)
    if build is None:
        saved = con.execute(
            "select unchanged from reverse_etl.plan_fingerprints where sync_name = ? "
            "and mart_fingerprint = ? and state_fingerprint = ?",
            [sync.name, marks.mart, marks.state],
        ).fetchone()
        if saved is not None:
            return _quiet(con, sync, columns, int(saved[0]), list_skipped)
    if _all_remembered(con, sync.name, total, mart_sum):
        # Every row hash is one the state or the skipped rows hold: the diff would find
        # nothing to plan (a new build that left this mart as it was). Saved as quiet, so
        # the next run with this build or mart stops before reading the mart.
        read = _quiet(con, sync, columns, 0, list_skipped)
        read.unchanged = total - len(read.skipped) - read.skipped_unlisted
        read.quiet = False
        read.fingerprints = marks
        return read
    # One pass: only the rows not unchanged come back, with the reason a row skipped with
    # the same hash was skipped for (None: the row must be planned). The state sides are
    # filtered by sync before the joins so each builds one sync's keys, not every sync's.
    # Unless they are to be listed, rows skipped again are only counted, in SQL: a mart with
    # many unmatched learners would otherwise send them all to Python on every plan.
    differ_sql = (
        f"select h.k, m.reason "
        f"from (select {key} as k, cast(hash(t, $salt) as varchar) as h from {table} as t) as h "
        "left join (select record_key, source_hash from reverse_etl.sync_state "
        "where sync_name = $sync) as s on s.record_key = h.k "
        "left join (select record_key, source_hash, reason from reverse_etl.skipped_rows "
        "where sync_name = $sync) as m on m.record_key = h.k and m.source_hash = h.h "
        "where s.source_hash is distinct from h.h"
    )
    if list_skipped:
        differ = con.execute(differ_sql, {"salt": seasoning, "sync": sync.name}).fetchall()
        skipped_again = 0
    else:
        found = con.execute(
            f"with d as materialized ({differ_sql}) "
            "select k, null as reason, false as counted from d where reason is null "
            "union all select null, cast(count(*) as varchar), true from d "
            "where reason is not null and k not in "
            "(select k from d where reason is null and k is not null)",
            {"salt": seasoning, "sync": sync.name},
        ).fetchall()
        differ = [(k, reason) for k, reason, counted in found if not counted]
        skipped_again = sum(int(reason) for _, reason, counted in found if counted)
    # A key with any row to plan is planned whole (duplicate keys are refused as before).
    pending = {k for k, reason in differ if reason is None}
    read = MartRead(columns, [], fingerprints=marks, skipped_unlisted=skipped_again)
    read.skipped = sorted((str(k), str(r)) for k, r in differ if r is not None and k not in pending)
    if sum(1 for _, reason in differ if reason is None) == total:
        # Every row is planned (a new field map, an erased state): no key list to match.
        _fetch(con, sync, read, f"select t.*, {_HASHED} from {table} as t", seasoning)
    elif pending:
        keys = json.dumps(sorted(k for k in pending if k is not None))
        # A row without a key is planned (and refused as missing_key), as a full read would.
        keyless = f" or {key} is null" if None in pending else ""
        _fetch(
            con,
            sync,
            read,
            f"select t.*, {_HASHED} from {table} as t where {key} in "
            f"(select unnest(from_json($keys, '[\"VARCHAR\"]'))){keyless}",
            seasoning,
            keys=keys,
        )
    # Every other row matched its state: counted from the fingerprint pass's row count (the
    # runner's connection is the warehouse's only writer, so the mart has not moved since).
    read.unchanged = total - len(read.rows) - len(read.skipped) - read.skipped_unlisted
    return read


_HASHED = f"cast(hash(t, $salt) as varchar) as {HASH}"


def _quiet(
    con: duckdb.DuckDBPyConnection, sync: Sync, columns: list[str], unchanged: int, listed: bool
) -> MartRead:
    """Nothing to plan: the rows skipped last time are skipped again, for the same reasons."""
    if not listed:
        count = con.execute(
            "select count(*) from reverse_etl.skipped_rows where sync_name = ?", [sync.name]
        ).fetchone()
        skipped = int(count[0]) if count else 0
        return MartRead(columns, [], unchanged=unchanged, skipped_unlisted=skipped, quiet=True)
    remembered = con.execute(
        "select record_key, reason from reverse_etl.skipped_rows where sync_name = ? "
        "order by record_key",
        [sync.name],
    ).fetchall()
    skipped_rows = [(str(k), str(r)) for k, r in remembered]
    return MartRead(columns, [], unchanged=unchanged, skipped=skipped_rows, quiet=True)


def _fetch(
    con: duckdb.DuckDBPyConnection,
    sync: Sync,
    read: MartRead,
    query: str,
    seasoning: str,
    **params: str,
) -> None:
    """Read the rows to plan (with their source hash) into `read`."""
    read.rows = st.fetch_dicts(con.execute(query, {"salt": seasoning, **params}))
    for row in read.rows:
        digest = row.pop(HASH)
        record_key = row.get(sync.record_key)
        if record_key is not None:
            read.source_hashes[str(record_key)] = digest
    # Live targets matter only to a deleted learner's clear: read them only when one is here.
    clears = sync.on_delete is not None and sync.mode == "update"
    if clears and any(row.get(sync.deleted_column) is True for row in read.rows):
        read.live_targets = _live_targets(con, sync)


def fingerprints(
    con: duckdb.DuckDBPyConnection,
    sync: Sync,
    seasoning: str,
    state: str,
    build: str | None = None,
) -> tuple[Fingerprints, int, int]:
    """(mart, state, build) fingerprints, the mart's row count and the sum of its row hashes:
    one pass over the mart."""
    mart = con.execute(
        f"select count(*), coalesce(sum(hash(t, $salt)), 0) from {st.quoted_table(sync.source)} as t",
        {"salt": seasoning},
    ).fetchone()
    assert mart is not None
    return Fingerprints(repr(mart), state, build), int(mart[0]), int(mart[1])


def _all_remembered(con: duckdb.DuckDBPyConnection, sync_name: str, rows: int, total: int) -> bool:
    """True when the mart's `rows` row hashes, summing to `total`, are those kept with the
    sync's state and its skipped rows (a hash of each row, key included, so equal sums of
    equal counts mean equal rows but for a 64-bit collision). A state row without a hash,
    or a row of a mart key that is gone, makes them differ, and the diff decides."""
    kept = con.execute(
        "select count(h), coalesce(sum(h), 0) from ("
        "select try_cast(source_hash as ubigint) as h from reverse_etl.sync_state "
        "where sync_name = $sync and source_hash is not null "
        "union all select try_cast(source_hash as ubigint) from reverse_etl.skipped_rows "
        "where sync_name = $sync)",
        {"sync": sync_name},
    ).fetchone()
    assert kept is not None
    return (int(kept[0]), int(kept[1])) == (rows, total)


def _build_fingerprint(con: duckdb.DuckDBPyConnection, seasoning: str) -> str | None:
    """The last build's ref, salted with the sync's configuration; None without a record."""
    record = build_record.read(con)
    if record is None:
        return None
    return hashlib.sha256(f"{record.ref}\0{seasoning}".encode()).hexdigest()


def _state_fingerprint(con: duckdb.DuckDBPyConnection, sync_name: str) -> str:
    """Moves with any confirm, erase or stamp of the sync's state."""
    state = con.execute(
        "select count(*), max(confirmed_at), count(source_hash) from reverse_etl.sync_state "
        "where sync_name = ?",
        [sync_name],
    ).fetchone()
    return repr(state)


def save_quiet(
    con: duckdb.DuckDBPyConnection, sync_name: str, read: MartRead, unchanged: int
) -> None:
    """Keep the fingerprints of a plan that had nothing to send: the next run with the same
    mart and state stops after one scan."""
    if read.fingerprints is None or read.quiet:
        return
    # The state after this plan's stamps, which is what the next run compares against (a
    # plan that read no row stamped nothing: the state is the one it read).
    state = _state_fingerprint(con, sync_name) if read.source_hashes else read.fingerprints.state
    con.execute(
        "insert or replace into reverse_etl.plan_fingerprints (sync_name, mart_fingerprint, "
        "state_fingerprint, unchanged, saved_at, build_ref) values (?, ?, ?, ?, ?, ?)",
        [sync_name, read.fingerprints.mart, state, unchanged, st.now(), read.fingerprints.build],
    )


def _live_targets(con: duckdb.DuckDBPyConnection, sync: Sync) -> set[str]:
    rows = con.execute(
        f"select distinct cast({quote_name(sync.id_column)} as varchar) from {st.quoted_table(sync.source)} "
        f"where {quote_name(sync.id_column)} is not null "
        f"and not coalesce({quote_name(sync.deleted_column)}, false)"
    ).fetchall()
    return {str(v) for (v,) in rows}


def remember(
    con: duckdb.DuckDBPyConnection,
    sync_name: str,
    source_hashes: Mapping[str, str],
    unchanged: list[str],
    skipped: list[tuple[str, str]],
) -> None:
    """After planning: stamp the unchanged rows' source hash on their confirmed state, and
    keep the skipped rows (with why) so the next run need not plan them again."""
    stamps = [[k, source_hashes[k]] for k in unchanged if k in source_hashes]
    st.insert_rows(
        con,
        "update reverse_etl.sync_state as s set source_hash = x.r.h "
        "from (select unnest(from_json(?, ?)) as r) as x "
        "where s.sync_name = ? and s.record_key = x.r.k",
        [],
        ["k", "h"],
        stamps,
        after=[sync_name],
    )
    st.insert_rows(
        con,
        "delete from reverse_etl.skipped_rows where sync_name = ? and record_key in "
        "(select r.k from (select unnest(from_json(?, ?)) as r))",
        [sync_name],
        ["k"],
        [[k] for k in source_hashes],
    )
    memo = [[k, source_hashes[k], reason] for k, reason in skipped if k in source_hashes]
    st.insert_rows(
        con,
        "insert or replace into reverse_etl.skipped_rows (sync_name, record_key, source_hash, "
        "reason) select ?, r.k, r.h, r.r from (select unnest(from_json(?, ?)) as r)",
        [sync_name],
        ["k", "h", "r"],
        memo,
    )
