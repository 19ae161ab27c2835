"""HubSpot contacts that become LearnWorlds learners (POST /v2/users), exactly once.

Candidates: live contacts no learner is matched to, whose configured property holds one of
the configured values (and whose consent property is true, when one is configured). Each
creation is written down as pending before the POST; a rerun after a crash finds the pending
row, and LearnWorlds' "email already taken" answer tells it the learner exists: it is adopted
(looked up by email), never created twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from reverse_etl import field_state as fs
from reverse_etl.lms_client import LmsClient
from reverse_etl.mappings import LearnerCreation
from reverse_etl.plan import Rejection

NAME = "learner_creation"
# Checked before the POST, so a contact with a malformed email is refused with our reason.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTACT_PROPERTIES = "marts.rev_etl__contact_properties"


@dataclass(frozen=True)
class Candidate:
    hubspot_contact_id: str
    email: str
    username: str


@dataclass
class CreationOutcome:
    planned: int = 0
    created: list[tuple[str, str]] = field(default_factory=list)  # (contact id, lms user id)
    adopted: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)


def candidates(con: duckdb.DuckDBPyConnection, config: LearnerCreation) -> list[Candidate]:
    wanted = [v.lower() for v in config.values]
    if not wanted:
        return []
    consent = config.consent_property
    params: list[Any] = [config.property, *wanted]
    consent_join = ""
    if consent:
        consent_join = f"""
        inner join {_CONTACT_PROPERTIES} as consent
            on consent.hubspot_contact_id = picked.hubspot_contact_id
            and consent.property = ? and lower(consent.property_value) = 'true'"""
        params.append(consent)
    marks = ", ".join("?" for _ in wanted)
    rows = con.execute(
        f"""
        with picked as (
            select hubspot_contact_id
            from {_CONTACT_PROPERTIES}
            where not has_learner and property = ?
              and lower(trim(property_value)) in ({marks})
        ),
        props as (
            select hubspot_contact_id,
                   max(case when property = 'email' then property_value end) as email,
                   max(case when property = 'firstname' then property_value end) as firstname,
                   max(case when property = 'lastname' then property_value end) as lastname
            from {_CONTACT_PROPERTIES}
            where property in ('email', 'firstname', 'lastname')
            group by hubspot_contact_id
        )
        select picked.hubspot_contact_id, props.email, props.firstname, props.lastname
        from picked
        inner join props on props.hubspot_contact_id = picked.hubspot_contact_id
        {consent_join}
        order by picked.hubspot_contact_id
        """,
        params,
    ).fetchall()
    out = []
    for contact_id, email, first, last in rows:
        email = (email or "").strip().lower()
        name = " ".join(p for p in ((first or "").strip(), (last or "").strip()) if p)
        out.append(Candidate(str(contact_id), email, name or email.split("@")[0]))
    return out


def pending(con: duckdb.DuckDBPyConnection, config: LearnerCreation) -> list[Candidate]:
    """Candidates not created yet (pending ones from a crashed run included)."""
    done = {c for c, (status, _) in fs.creations(con).items() if status != "pending"}
    return [c for c in candidates(con, config) if c.hubspot_contact_id not in done]


def create(
    con: duckdb.DuckDBPyConnection,
    client: LmsClient,
    config: LearnerCreation,
    todo: list[Candidate],
    *,
    validate: bool,
    progress: Any = None,
) -> CreationOutcome:
    outcome = CreationOutcome(planned=len(todo))
    for index, c in enumerate(todo, start=1):
        if progress:
            progress(f"sync {NAME}", index - 1, len(todo))
        if not _EMAIL.match(c.email):
            outcome.rejected.append(
                Rejection(c.hubspot_contact_id, "INVALID_EMAIL", f"{c.email!r} is not an email", {})
            )
            fs.creation_pending(con, c.hubspot_contact_id, c.email or "-")
            fs.creation_done(con, c.hubspot_contact_id, "rejected", None)
            continue
        fs.creation_pending(con, c.hubspot_contact_id, c.email)
        body: dict[str, Any] = {
            "email": c.email,
            "username": c.username,
            "send_registration_email": config.send_registration_email,
        }
        if config.tags:
            body["tags"] = list(config.tags)
        if validate:
            body["signup_validation_rules"] = True
        response = client.create_user(body)
        if response.ok and isinstance(response.body, dict) and response.body.get("id"):
            user_id = str(response.body["id"])
            fs.creation_done(con, c.hubspot_contact_id, "created", user_id)
            outcome.created.append((c.hubspot_contact_id, user_id))
            continue
        if response.status == 400 and "taken" in response.message.lower():
            # Created by an earlier, interrupted run (or by someone else): adopt it.
            found = client.get_user(c.email)
            if found.ok and isinstance(found.body, dict) and found.body.get("id"):
                user_id = str(found.body["id"])
                fs.creation_done(con, c.hubspot_contact_id, "adopted", user_id)
                outcome.adopted.append((c.hubspot_contact_id, user_id))
                continue
        fs.creation_done(con, c.hubspot_contact_id, "rejected", None)
        outcome.rejected.append(
            Rejection(
                c.hubspot_contact_id,
                f"LMS_{response.status}",
                f"HTTP {response.status}: {response.message}",
                {"email": c.email},
            )
        )
    if progress:
        progress(f"sync {NAME}", len(todo), len(todo))
    return outcome
