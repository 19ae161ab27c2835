"""The two-way field sync: check the mappings, plan both directions, write, record agreement.

Reads marts.rev_etl__learner_fields (LMS side) and marts.rev_etl__contact_properties
(HubSpot side), both as of this run's extract, and `reverse_etl.field_state` (what both sides
last agreed on). HubSpot gets batch updates of 100 contacts; LearnWorlds, which has no batch
write, gets one PUT per changed learner plus one tags call per attach or detach.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb

from reverse_etl import field_state as fs
from reverse_etl.client import HubSpotClient
from reverse_etl.field_plan import (
    Decision,
    FieldPlan,
    FieldRow,
    ResyncDirection,
    build_field_plan,
    tag_set,
)
from reverse_etl.lms_client import LmsClient
from reverse_etl.mappings import (
    FieldMapping,
    FieldMappings,
    MappingCheck,
    PropertyDefinition,
    check_mappings,
)
from reverse_etl.plan import BATCH_SIZE, Rejection, Write
from reverse_etl.writer import send_writes

log = logging.getLogger("reverse_etl")
Progress = Callable[[str, int, int | None], None]
TO_HUBSPOT = "fields_to_hubspot"
TO_LMS = "fields_to_lms"
_LEARNER_FIELDS = "marts.rev_etl__learner_fields"
_CONTACT_PROPERTIES = "marts.rev_etl__contact_properties"


def warehouse_name(lms_field: str) -> str:
    """The LMS field as the warehouse names it: dlt snake-cases nested keys (cf_JobTitle ->
    cf_job_title), while writes keep LearnWorlds' own key."""
    head, dot, key = lms_field.partition(".")
    return f"{head}.{_naming().normalize_identifier(key)}" if dot else lms_field


@functools.cache
def _naming() -> Any:
    # dlt costs ~1 s to import; only a sync with nested LMS fields needs its naming rules.
    from dlt.common.normalizers.naming.snake_case import NamingConvention

    return NamingConvention()


@dataclass
class FieldSyncOutcome:
    """What one direction did, for the run's result rows."""

    name: str
    planned: int = 0
    sent: int = 0
    succeeded: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    calls: int = 0


def property_definitions(con: duckdb.DuckDBPyConnection) -> dict[str, PropertyDefinition]:
    """Contact property definitions from the last HubSpot extract."""
    try:
        rows = con.execute(
            "select name, type, field_type, coalesce(calculated, false) "
            "from raw_hubspot.properties where object_type = 'contacts'"
        ).fetchall()
    except duckdb.CatalogException:
        return {}
    return {n: PropertyDefinition(n, str(t), str(f), bool(c)) for n, t, f, c in rows}


def lms_fields_seen(con: duckdb.DuckDBPyConnection) -> set[str] | None:
    try:
        rows = con.execute(f"select distinct lms_field from {_LEARNER_FIELDS}").fetchall()
    except duckdb.CatalogException:
        return None
    return {str(r[0]).lower() for r in rows}


def check(
    con: duckdb.DuckDBPyConnection, mappings: FieldMappings, reserved: dict[str, str]
) -> list[MappingCheck]:
    """Every active mapping checked against the portal and the school; `reserved`: HubSpot
    properties another sync writes (a mapping there would fight it) -> that sync's name."""
    checks = check_mappings(
        mappings,
        property_definitions(con),
        lms_fields_seen(con),
        lambda name: warehouse_name(name).lower(),
    )
    out = []
    for c in checks:
        owner = reserved.get(c.mapping.hubspot)
        if c.valid and owner and c.mapping.direction != "to_lms":
            c = MappingCheck(c.mapping, f"{c.mapping.hubspot} is written by the {owner} sync")
        out.append(c)
    return out


def read_rows(con: duckdb.DuckDBPyConnection, mappings: list[FieldMapping]) -> list[FieldRow]:
    """Both sides' current values for every matched learner and valid mapping."""
    if not mappings:
        return []
    by_key = {m.key: m for m in mappings}
    values = ", ".join("(?, ?, ?)" for _ in mappings)
    params: list[Any] = []
    for m in mappings:
        params += [m.key, warehouse_name(m.lms).lower(), m.hubspot]
    sql = f"""
        with mappings(mapping_key, lms_field, hubspot_property) as (values {values}),
        learners as (
            select distinct learner_key, lms_user_id, hubspot_contact_id
            from {_LEARNER_FIELDS}
            where hubspot_contact_id is not null
        )
        select learners.learner_key, learners.lms_user_id, learners.hubspot_contact_id,
               mappings.mapping_key, lms.lms_value, hub.property_value,
               lms_reads.lms_read_at, hub_reads.hubspot_read_at
        from learners
        cross join mappings
        left join {_LEARNER_FIELDS} as lms
            on lms.learner_key = learners.learner_key and lower(lms.lms_field) = mappings.lms_field
        left join {_CONTACT_PROPERTIES} as hub
            on hub.hubspot_contact_id = learners.hubspot_contact_id
            and hub.property = mappings.hubspot_property
        left join (
            select learner_key, max(lms_read_at) as lms_read_at
            from {_LEARNER_FIELDS} group by learner_key
        ) as lms_reads on lms_reads.learner_key = learners.learner_key
        left join (
            select hubspot_contact_id, max(hubspot_read_at) as hubspot_read_at
            from {_CONTACT_PROPERTIES} group by hubspot_contact_id
        ) as hub_reads on hub_reads.hubspot_contact_id = learners.hubspot_contact_id
        order by learners.learner_key, mappings.mapping_key
    """
    return [
        FieldRow(str(k), str(u), str(c), by_key[mk], lv, hv, lr, hr)
        for k, u, c, mk, lv, hv, lr, hr in con.execute(sql, params).fetchall()
    ]


def plan_fields(
    con: duckdb.DuckDBPyConnection,
    mappings: list[FieldMapping],
    *,
    resync: ResyncDirection | None = None,
) -> FieldPlan:
    return build_field_plan(read_rows(con, mappings), fs.load(con), resync=resync)


def _state_row(d: Decision, value: str | None) -> fs.Row:
    r = d.row
    return (r.learner_key, r.mapping.key, r.lms_user_id, r.hubspot_contact_id, value)


# --- HubSpot ----------------------------------------------------------------------------


def _hubspot_value(d: Decision) -> str:
    # HubSpot clears a property on an empty string; tags travel as HubSpot's ';' list.
    return "" if d.value is None else d.value


def write_hubspot(
    con: duckdb.DuckDBPyConnection,
    client: HubSpotClient,
    plan: FieldPlan,
    progress: Progress | None,
) -> FieldSyncOutcome:
    outcome = FieldSyncOutcome(TO_HUBSPOT)
    grouped = plan.to_hubspot_by_contact()
    writes = [
        Write(
            kind="update",
            action="update",
            target=contact_id,
            id_property=None,
            properties={d.row.mapping.hubspot: _hubspot_value(d) for d in decisions},
            record_keys=[contact_id],
            hashes={},
            confirmed={},
        )
        for contact_id, decisions in grouped.items()
    ]
    outcome.planned = sum(len(v) for v in grouped.values())
    batches = [writes[i : i + BATCH_SIZE] for i in range(0, len(writes), BATCH_SIZE)]
    for index, batch in enumerate(batches, start=1):
        result = send_writes(client, "contacts", batch)
        agreed: list[fs.Row] = []
        for write in batch:
            decisions = grouped[write.target]
            outcome.sent += len(decisions)
            if write.trace_id in result.confirmed:
                agreed += [_state_row(d, d.value) for d in decisions]
                outcome.succeeded += len(decisions)
                continue
            category, message = result.rejected.get(write.trace_id, ("UNCONFIRMED", "no result"))
            outcome.rejected += [
                Rejection(
                    f"{d.row.learner_key}:{d.row.mapping.key}",
                    category,
                    message,
                    {"hubspot_contact_id": write.target, "property": d.row.mapping.hubspot},
                )
                for d in decisions
            ]
        fs.agree(con, agreed, written_to="hubspot")
        if progress:  # contacts, not batches
            progress(f"sync {TO_HUBSPOT}", min(index * BATCH_SIZE, len(writes)), len(writes))
    return outcome


# --- LearnWorlds ------------------------------------------------------------------------


def _lms_body(decisions: list[Decision], validate: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for d in decisions:
        name = d.row.mapping.lms
        if name == "tags":
            continue
        head, dot, key = name.partition(".")
        if name == "subscribed_for_marketing_emails":
            body[name] = None if d.value is None else d.value == "true"
        elif dot:
            body.setdefault(head, {})[key] = d.value
        else:
            body[name] = d.value
    if body and validate:
        body["signup_validation_rules"] = True
    return body


def _tag_calls(decisions: list[Decision]) -> list[tuple[list[str], str]]:
    for d in decisions:
        if d.row.mapping.lms == "tags":
            have, want = tag_set(d.row.lms_value), tag_set(d.value)
            calls = []
            if want - have:
                calls.append((sorted(want - have), "attach"))
            if have - want:
                calls.append((sorted(have - want), "detach"))
            return calls
    return []


def write_lms(
    con: duckdb.DuckDBPyConnection,
    client: LmsClient,
    plan: FieldPlan,
    *,
    validate: bool,
    progress: Progress | None,
) -> FieldSyncOutcome:
    """One learner at a time; a refused learner is recorded and the others still go."""
    outcome = FieldSyncOutcome(TO_LMS)
    grouped = plan.to_lms_by_learner()
    outcome.planned = sum(len(v) for v in grouped.values())
    for index, (user_id, decisions) in enumerate(grouped.items(), start=1):
        outcome.sent += len(decisions)
        body = _lms_body(decisions, validate)
        problem: str | None = None
        category = "LMS_REJECTED"
        calls: list[tuple[str, Any]] = []
        if body:
            calls.append(("user", body))
        calls += [("tags", c) for c in _tag_calls(decisions)]
        for kind, payload in calls:
            response = (
                client.update_user(user_id, payload)
                if kind == "user"
                else client.update_tags(user_id, payload[0], payload[1])
            )
            if not response.ok:
                problem = f"HTTP {response.status}: {response.message}"
                category = "LMS_NOT_FOUND" if response.status == 404 else f"LMS_{response.status}"
                break
        if problem is None:
            fs.agree(con, [_state_row(d, d.value) for d in decisions], written_to="lms")
            outcome.succeeded += len(decisions)
        else:
            fs.refuse(con, [_state_row(d, d.value) for d in decisions])
            outcome.rejected += [
                Rejection(
                    f"{d.row.learner_key}:{d.row.mapping.key}",
                    category,
                    problem,
                    {"lms_user_id": user_id, "lms_field": d.row.mapping.lms, "value": d.value},
                )
                for d in decisions
            ]
        if progress:
            progress(f"sync {TO_LMS}", index, len(grouped))
    return outcome


def explain(plan: FieldPlan, limit: int = 50) -> list[dict[str, Any]]:
    """Per learner and field: which way, from what to what, and why (dry run)."""
    rows = []
    # What would be written first; values held back (and why) after them.
    ordered = sorted(plan.decisions, key=lambda d: (d.way is None, not d.agreed_changed))
    for d in ordered[:limit]:
        rows.append(
            {
                "learner_key": d.row.learner_key,
                "field": d.row.mapping.key,
                "way": d.way or "-",
                "lms": d.row.lms_value,
                "hubspot": d.row.hubspot_value,
                "reason": d.reason,
            }
        )
    return rows


def reserved_properties(syncs: list[Any]) -> dict[str, str]:
    """HubSpot contact properties other syncs write -> the sync's name."""
    out: dict[str, str] = {}
    for sync in syncs:
        if sync.object_type == "contacts":
            for spec in sync.fields.values():
                out.setdefault(spec.property, sync.name)
    return out


def confirm_agreements(con: duckdb.DuckDBPyConnection, plan: FieldPlan) -> None:
    fs.agree(con, [_state_row(d, d.agree) for d in plan.agreements])
