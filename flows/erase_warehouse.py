"""Find and delete one person's rows in every table of the warehouse, then rewrite the file.

Tables are not listed by hand: every base table is searched, so a new model or raw table
is covered without touching this module. A row is the person's when its text (the whole
row cast to text, JSON payloads included) holds the email as a whole address or one of
their long ids (LearnWorlds user id, learner key), or when a HubSpot contact id column
equals one of their contact ids (short numbers: compared by column, never as a substring).
dlt child tables go with their root row.

DuckDB keeps deleted rows in free blocks until the file is rewritten, so after the deletes
the database is copied into a fresh file that replaces the old one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lmsbridge_core import build_record
from lmsbridge_core.warehouse import quote_name

# Columns holding one learner's email as a whole value (the CSV history, the learner marts).
EMAIL_COLUMNS = frozenset({"email", "email_normalized", "learner_email"})
CONTACT_ID_COLUMNS = frozenset({"hubspot_contact_id", "contact_id"})
# The raw tables whose own `id` is the person's id.
LMS_USER_TABLES = ("users",)
CONTACT_TABLES = ("contacts",)
# Shorter strings could be part of unrelated values.
MIN_LONG_ID = 16


@dataclass
class Person:
    email: str
    long_ids: set[str] = field(default_factory=set)
    contact_ids: set[str] = field(default_factory=set)

    @property
    def email_pattern(self) -> str:
        # Whole addresses only: ann@x.com must not match joann@x.com.
        return rf"(^|[^a-z0-9._%+\-]){re.escape(self.email)}($|[^a-z0-9.\-])"


@dataclass(frozen=True)
class _Table:
    schema: str
    name: str
    columns: tuple[str, ...]

    @property
    def ref(self) -> str:
        return f"{quote_name(self.schema)}.{quote_name(self.name)}"

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


def _tables(con: duckdb.DuckDBPyConnection) -> list[_Table]:
    rows = con.execute(
        """
        select t.schema_name, t.table_name, list(c.column_name order by c.column_index)
        from duckdb_tables() t
        join duckdb_columns() c using (database_name, schema_name, table_name)
        where t.database_name = current_database() and not t.internal
        group by all order by 1, 2
        """
    ).fetchall()
    return [_Table(s, n, tuple(cols)) for s, n, cols in rows]


def _predicate(table: _Table, person: Person) -> tuple[str, list[object]]:
    """SQL condition (on alias `r`) selecting the person's rows, with its parameters."""
    parts = ["regexp_matches(lower(r::varchar), ?)"]
    params: list[object] = [person.email_pattern]
    for long_id in sorted(person.long_ids):
        parts.append("contains(r::varchar, ?)")
        params.append(long_id)
    contact_columns = [c for c in table.columns if c in CONTACT_ID_COLUMNS]
    if table.schema.startswith("raw_") and table.name in CONTACT_TABLES and "id" in table.columns:
        contact_columns.append("id")
    if person.contact_ids:
        ids = sorted(person.contact_ids)
        for column in contact_columns:
            parts.append(f"r.{quote_name(column)}::varchar in ({', '.join('?' for _ in ids)})")
            params.extend(ids)
        if {"from_object_type", "from_id"} <= set(table.columns):
            parts.append(
                f"(r.from_object_type = 'contacts' and r.from_id::varchar in"
                f" ({', '.join('?' for _ in ids)}))"
            )
            params.extend(ids)
    return " or ".join(parts), params


def identify(con: duckdb.DuckDBPyConnection, email: str) -> Person:
    """The person's ids, only from rows that are the person's own record, never from rows
    that merely mention them (a match candidate or a conflict names other people too):

    - raw `users` / `contacts` rows holding the email (HubSpot additional emails included):
      their `id` is the LearnWorlds user id / HubSpot contact id;
    - rows with an email column equal to the email: their LearnWorlds user id (CSV history);
    - rows with a `learner_key` whose user id or email is the person's: the learner key.
    """
    person = Person(email)
    tables = _tables(con)
    pattern = person.email_pattern
    for table in tables:
        if not (table.schema.startswith("raw_") and "id" in table.columns):
            continue
        if table.name in LMS_USER_TABLES + CONTACT_TABLES:
            found = _values(con, table, "id", "regexp_matches(lower(r::varchar), ?)", [pattern])
            target = person.contact_ids if table.name in CONTACT_TABLES else person.long_ids
            target.update(found)
    for table in tables:
        email_columns = [c for c in table.columns if c in EMAIL_COLUMNS]
        for id_column in ("lms_user_id", "learner_key"):
            if id_column not in table.columns:
                continue
            conditions = [f"lower(trim(r.{quote_name(c)}::varchar)) = ?" for c in email_columns]
            params: list[object] = [email] * len(email_columns)
            if id_column == "learner_key" and "lms_user_id" in table.columns and person.long_ids:
                conditions.append("r.lms_user_id::varchar in (select unnest(?::varchar[]))")
                params.append(sorted(person.long_ids))
            if conditions:
                found = _values(con, table, id_column, " or ".join(conditions), params)
                person.long_ids.update(v for v in found if len(v) >= MIN_LONG_ID)
    return person


def _values(
    con: duckdb.DuckDBPyConnection, table: _Table, column: str, where: str, params: list[object]
) -> set[str]:
    rows = con.execute(
        f"select distinct r.{quote_name(column)}::varchar from {table.ref} r where {where}", params
    ).fetchall()
    return {v for (v,) in rows if v}


def count_or_delete(
    con: duckdb.DuckDBPyConnection, person: Person, *, delete: bool
) -> dict[str, int]:
    """Rows of the person per table (`schema.table`), deleted when `delete`. dlt child
    rows (same schema, `_dlt_root_id` of a deleted row) are counted and deleted too."""
    counts: dict[str, int] = {}
    tables = _tables(con)
    roots: dict[str, set[str]] = {}
    for table in tables:
        where, params = _predicate(table, person)
        if "_dlt_id" in table.columns and "_dlt_root_id" not in table.columns:
            found = con.execute(
                f"select r._dlt_id from {table.ref} r where {where}", params
            ).fetchall()
            roots.setdefault(table.schema, set()).update(v for (v,) in found)
        n = con.execute(f"select count(*) from {table.ref} r where {where}", params).fetchone()[0]  # type: ignore[index]
        if n:
            counts[table.label] = n
    for table in tables:
        root_ids = roots.get(table.schema)
        if not root_ids or "_dlt_root_id" not in table.columns:
            continue
        # The values must go in as one list parameter: a person may have many rows.
        extra = con.execute(
            f"select count(*) from {table.ref} r where r._dlt_root_id in (select unnest(?::varchar[]))"
            f" and not ({_predicate(table, person)[0]})",
            [sorted(root_ids), *_predicate(table, person)[1]],
        ).fetchone()[0]  # type: ignore[index]
        if extra:
            counts[table.label] = counts.get(table.label, 0) + extra
    if delete and counts:
        con.execute("begin transaction")
        for table in tables:
            where, params = _predicate(table, person)
            root_ids = roots.get(table.schema)
            if root_ids and "_dlt_root_id" in table.columns:
                where = f"({where}) or r._dlt_root_id in (select unnest(?::varchar[]))"
                params = [*params, sorted(root_ids)]
            if table.label in counts:
                con.execute(
                    f"delete from {table.ref} where rowid in"
                    f" (select r.rowid from {table.ref} r where {where})",
                    params,
                )
        # The marts changed outside dbt: the next run builds, the next plan reads them.
        build_record.forget(con)
        con.execute("commit")
    return counts


def rewrite(warehouse: Path) -> None:
    """Copy the database into a fresh file and swap it in: the old file's free blocks still
    hold the deleted rows. The caller holds the run lock and no connection is open."""
    warehouse = warehouse.resolve()
    tmp = warehouse.with_name(f".{warehouse.stem}-erase.tmp.duckdb")
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(tmp)) as con:
            fresh = con.execute("select current_database()").fetchone()[0]  # type: ignore[index]
            # Attached under its own name: views that dbt wrote with the catalog name
            # resolve against it while being copied, and against the new file after the swap.
            con.execute(
                f"attach '{_sql_str(warehouse)}' as {quote_name(warehouse.stem)} (read_only)"
            )
            con.execute(f"copy from database {quote_name(warehouse.stem)} to {quote_name(fresh)}")
            con.execute(f"detach {quote_name(warehouse.stem)}")
            con.execute("checkpoint")
        os.replace(tmp, warehouse)
        Path(f"{warehouse}.wal").unlink(missing_ok=True)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)


def _sql_str(value: object) -> str:
    return str(value).replace("'", "''")
