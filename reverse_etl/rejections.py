"""The rejected records of a run as people need them: whose (email) and where (a HubSpot link).

`reverse_etl.rejected_rows` keys a rejection by the sync's record key (a learner key hash, a
task key...). The learner's email and contact id come from `marts.dim_learners`; tasks and
notes carry their contact id in their mart. Links need the portal id and UI domain, read
once per run from the account details, and only when something was rejected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import duckdb

from lmsbridge_core.warehouse import table_exists
from reverse_etl.config import Sync

# HubSpot's object type ids, as its record URLs spell them.
OBJECT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3"}
SHOWN_PER_SYNC = 20


@dataclass(frozen=True)
class RejectedRecord:
    sync_name: str
    record_key: str
    category: str
    message: str
    email: str | None = None
    link: str | None = None


def record_link(
    account: tuple[int, str] | None, object_type: str, hubspot_id: str | None
) -> str | None:
    type_id = OBJECT_TYPE_IDS.get(object_type)
    if account is None or type_id is None or not hubspot_id:
        return None
    portal_id, ui_domain = account
    return f"https://{ui_domain}/contacts/{portal_id}/record/{type_id}/{hubspot_id}"


def learner_emails(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """learner key -> the learner's email: people recognise emails, not hashes."""
    if not table_exists(con, "marts", "dim_learners"):
        return {}
    rows = con.execute(
        "select learner_key, email from marts.dim_learners where email is not null"
    ).fetchall()
    return {str(key): str(email) for key, email in rows}


def _learners(con: duckdb.DuckDBPyConnection, keys: list[str]) -> dict[str, tuple[str, str]]:
    if not keys or not table_exists(con, "marts", "dim_learners"):
        return {}
    rows = con.execute(
        "select learner_key, email, hubspot_contact_id from marts.dim_learners "
        "where learner_key in (select unnest(?))",
        [keys],
    ).fetchall()
    return {key: (email, contact) for key, email, contact in rows}


def _contacts_of(
    con: duckdb.DuckDBPyConnection, sync: Sync, keys: list[str]
) -> dict[str, str | None]:
    """record key -> hubspot_contact_id, for syncs whose rows belong to a contact."""
    columns = {a.column for a in sync.associations if a.to_object_type == "contacts"}
    if not keys or not columns:
        return {}
    schema, table = sync.source.split(".", 1)
    if not table_exists(con, schema, table):
        return {}
    column = sorted(columns)[0]
    rows = con.execute(
        f'select "{sync.record_key}", "{column}" from "{schema}"."{table}" '
        f'where "{sync.record_key}" in (select unnest(?))',
        [keys],
    ).fetchall()
    return {str(key): None if contact is None else str(contact) for key, contact in rows}


def _emails_of_contacts(
    con: duckdb.DuckDBPyConnection, contact_ids: Iterable[str]
) -> dict[str, str]:
    ids = sorted({c for c in contact_ids if c})
    if not ids or not table_exists(con, "marts", "dim_learners"):
        return {}
    rows = con.execute(
        "select hubspot_contact_id, min(email) from marts.dim_learners "
        "where hubspot_contact_id in (select unnest(?)) group by 1",
        [ids],
    ).fetchall()
    return {str(contact): email for contact, email in rows}


def describe(
    con: duckdb.DuckDBPyConnection,
    sync_run_ids: Mapping[str, str],
    syncs: Mapping[str, Sync],
    account: tuple[int, str] | None,
) -> dict[str, list[RejectedRecord]]:
    """sync name -> its first rejected records of this run, with email and link.

    `sync_run_ids` maps each sync's name to its `sync_run_id` in rejected_rows.
    """
    if not sync_run_ids or not table_exists(con, "reverse_etl", "rejected_rows"):
        return {}
    found: dict[str, list[RejectedRecord]] = {}
    for name, run_id in sync_run_ids.items():
        rows = con.execute(
            "select record_key, category, message from reverse_etl.rejected_rows "
            "where sync_run_id = ? order by rejected_at, record_key limit ?",
            [run_id, SHOWN_PER_SYNC],
        ).fetchall()
        if not rows:
            continue
        keys = [str(r[0]) for r in rows if r[0] is not None]
        sync = syncs.get(name)
        learners = _learners(con, keys)
        contacts = _contacts_of(con, sync, keys) if sync is not None else {}
        emails = _emails_of_contacts(con, contacts.values()) if contacts else {}
        records = []
        for key, category, message in rows:
            key = "" if key is None else str(key)
            email, contact = learners.get(key, (None, None))
            if contact is None and key in contacts:
                contact = contacts[key]
                email = emails.get(contact or "")
            if contact is not None:
                link = record_link(account, "contacts", contact)
            elif sync is not None and sync.object_type in OBJECT_TYPE_IDS:
                link = record_link(account, sync.object_type, key)
            else:
                link = None
            records.append(RejectedRecord(name, key, category, message or "", email, link))
        found[name] = records
    return found
