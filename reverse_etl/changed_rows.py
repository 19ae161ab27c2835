"""Which mart rows need planning at all, decided in DuckDB (set-based diff).

Every mart row gets a source hash in SQL: DuckDB's hash of the whole row, salted with the
sync's configuration, so a changed field map re-plans everything. A row whose source hash
equals the one stored with its confirmed state (sync_state.source_hash) would plan as
unchanged; a row remembered as skipped with the same hash would be skipped again for the same
reason. Neither reaches Python. The rest come back whole, together with every row sharing
their record key (so duplicate keys are still refused as before), and go through the same
`build_plan` as always. Planning cost follows the changed rows, not the mart's history.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from reverse_etl import state as st
from reverse_etl.config import Sync

HASH = "__lmsbridge_source_hash"
_SCRATCH = "__lmsbridge_plan_rows"


@dataclass
class MartRead:
    columns: list[str]
    rows: list[dict[str, Any]]
    # record key -> its source hash, for the rows handed to the planner
    source_hashes: dict[str, str] = field(default_factory=dict)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Update targets of every live (not deleted) row, read or not: a deleted learner's
    # clear must not wipe a contact another learner still writes.
    live_targets: set[str] = field(default_factory=set)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(source: str) -> str:
    return ".".join(_quote(part) for part in source.split("."))


def mart_columns(con: duckdb.DuckDBPyConnection, source: str) -> list[str]:
    cursor = con.execute(f"select * from {_table(source)} limit 0")
    return [d[0] for d in cursor.description]


def salt(sync: Sync, columns: list[str]) -> str:
    """Changes whenever anything that decides a row's verdict (besides the row) changes."""
    config = sync.model_dump(mode="json")
    return hashlib.sha256(json.dumps([config, columns], sort_keys=True).encode()).hexdigest()


def _fetch(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]


def read_changed(
    con: duckdb.DuckDBPyConnection, sync: Sync, columns: list[str], *, has_state: bool
) -> MartRead:
    """The rows to plan; the others counted (unchanged) or listed (skipped) from SQL."""
    key = f"cast(t.{_quote(sync.record_key)} as varchar)"
    table = _table(sync.source)
    state_join = (
        "left join reverse_etl.sync_state as s on s.sync_name = $sync and s.record_key = h.k "
        "left join reverse_etl.skipped_rows as m on m.sync_name = $sync and m.record_key = h.k"
        if has_state
        else ""
    )
    verdict = (
        "case when s.source_hash = h.h then 'unchanged' when m.source_hash = h.h then 'skipped' end"
        if has_state
        else "cast(null as varchar)"
    )
    reason = "m.reason" if has_state else "cast(null as varchar)"
    con.execute(
        f"create or replace temp table {_SCRATCH} as "
        f"select h.k, h.h, {verdict} as verdict, {reason} as reason "
        f"from (select {key} as k, cast(hash(t, $salt) as varchar) as h from {table} as t) as h "
        f"{state_join}",
        {"salt": salt(sync, columns), **({"sync": sync.name} if has_state else {})},
    )
    try:
        read = MartRead(columns, [])
        counts = con.execute(
            f"select count(*) filter (verdict = 'unchanged'), count(*) filter (verdict is null) "
            f"from {_SCRATCH}"
        ).fetchone()
        assert counts is not None
        read.unchanged = int(counts[0])
        skipped = con.execute(
            f"select k, reason from {_SCRATCH} where verdict = 'skipped' order by k"
        ).fetchall()
        read.skipped = [(str(k), str(r)) for k, r in skipped]
        if sync.on_delete is not None and sync.mode == "update":
            read.live_targets = _live_targets(con, sync)
        if counts[1] == 0:
            return read
        # Every row of a key that needs planning, so a duplicate key is seen as one.
        rows = _fetch(
            con.execute(
                f"select t.*, cast(hash(t, $salt) as varchar) as {HASH} from {table} as t "
                f"where {key} in (select k from {_SCRATCH} where verdict is null)",
                {"salt": salt(sync, columns)},
            )
        )
        # The unchanged/skipped siblings of a duplicated key were counted above: recount.
        planned_keys = {str(r.get(sync.record_key)) for r in rows}
        read.unchanged -= _siblings(con, planned_keys, "unchanged")
        kept = [(k, r) for k, r in read.skipped if k not in planned_keys]
        read.skipped = kept
        for row in rows:
            digest = row.pop(HASH)
            record_key = row.get(sync.record_key)
            if record_key is not None:
                read.source_hashes[str(record_key)] = digest
        read.rows = rows
        return read
    finally:
        con.execute(f"drop table if exists {_SCRATCH}")


def _siblings(con: duckdb.DuckDBPyConnection, keys: set[str], verdict: str) -> int:
    if not keys:
        return 0
    found = con.execute(
        f"select count(*) from {_SCRATCH} where verdict = ? and k in "
        "(select unnest(cast(? as varchar[])))",
        [verdict, sorted(keys)],
    ).fetchone()
    return int(found[0]) if found else 0


def _live_targets(con: duckdb.DuckDBPyConnection, sync: Sync) -> set[str]:
    rows = con.execute(
        f"select distinct cast({_quote(sync.id_column)} as varchar) from {_table(sync.source)} "
        f"where {_quote(sync.id_column)} is not null "
        f"and not coalesce({_quote(sync.deleted_column)}, false)"
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
