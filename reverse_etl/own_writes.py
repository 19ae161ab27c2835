"""The two-way plan's one blind spot: a HubSpot value we wrote but never recorded as agreed.

fields_to_hubspot records a value as agreed only once HubSpot confirms the batch. When HubSpot
applied a batch whose answer was lost (a timeout, a run killed in between), the next run finds
HubSpot changed since the last agreement and, if the learner also changed the field in
LearnWorlds meanwhile, sees a change on both sides. On a `both` field whose winner is
`hubspot`, HubSpot's value - our own stale copy of an older LMS value - would then overwrite
the learner's newer edit in LearnWorlds. An uninterrupted run would have sent the learner's
edit to HubSpot instead.

The property's history settles it (reverse_etl.edited_by): when HubSpot's current value was
written by us, HubSpot did not change, so the LMS change goes to HubSpot. One batch read per
50 such contacts, none when there is no such conflict (the usual case).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import replace

from reverse_etl import edited_by as eb
from reverse_etl.client import HubSpotClient
from reverse_etl.field_plan import Decision, FieldPlan, Recorded, normalize
from reverse_etl.plan import ConfirmedState
from reverse_etl.repair import batch_read

log = logging.getLogger("reverse_etl")


def _suspect(d: Decision, state: Mapping[tuple[str, str], Recorded]) -> bool:
    """HubSpot's value won a both-sides conflict: maybe only because we wrote it."""
    row = d.row
    recorded = state.get((row.learner_key, row.mapping.key))
    return (
        d.way == "to_lms"
        and row.mapping.direction == "both"
        and recorded is not None
        and normalize(row.mapping, row.lms_value) != recorded.agreed
        and normalize(row.mapping, row.hubspot_value) != recorded.agreed
    )


def settle_own_writes(
    plan: FieldPlan,
    client: HubSpotClient,
    state: Mapping[tuple[str, str], Recorded],
    confirmed: Iterable[Mapping[str, ConfirmedState]] = (),
) -> int:
    """Turn the suspect decisions whose HubSpot value is our own write into LMS -> HubSpot
    writes; returns how many. `confirmed`: sync_state of the one-way contact syncs, whose
    confirmed values (with the mapped fields' values we wrote to HubSpot) show, in the same
    histories, which sourceType/sourceId is ours."""
    suspects = [d for d in plan.decisions if _suspect(d, state)]
    if not suspects:
        return 0
    contacts = sorted({d.row.hubspot_contact_id for d in suspects})
    ours_by_contact: dict[str, dict[str, str | None]] = {c: {} for c in contacts}
    for sync_state in confirmed:
        for c in sync_state.values():
            if c.hubspot_id in ours_by_contact:
                ours_by_contact[c.hubspot_id].update(c.properties)
    for d in suspects:
        recorded = state[(d.row.learner_key, d.row.mapping.key)]
        if recorded.written_to == "hubspot":
            ours_by_contact[d.row.hubspot_contact_id][d.row.mapping.hubspot] = recorded.agreed
    props = sorted({d.row.mapping.hubspot for d in suspects}.union(*ours_by_contact.values()))
    records = {
        str(r.get("id")): r
        for r in batch_read(client, "contacts", contacts, [], history=props, label="sync")
    }
    signatures: set[eb.Signature] = set()
    for contact, values in ours_by_contact.items():
        record = records.get(contact)
        for prop, value in values.items():
            if record is not None:
                signatures |= eb.our_signatures(eb.versions(record, prop), value)
    settled = 0
    for index, d in enumerate(plan.decisions):
        if d not in suspects:
            continue
        record = records.get(d.row.hubspot_contact_id)
        history = eb.versions(record, d.row.mapping.hubspot) if record is not None else []
        # Only when the value we planned from is still HubSpot's current one.
        if not history or not eb.same(history[0].value, d.row.hubspot_value):
            continue
        if eb.classify(history, signatures).edited_by != eb.LMSBRIDGE:
            continue
        value = normalize(d.row.mapping, d.row.lms_value)
        plan.decisions[index] = replace(
            d,
            way="to_hubspot",
            value=value,
            reason="changed in the LMS (HubSpot holds our own earlier write, never confirmed)",
        )
        settled += 1
    if settled:
        log.info("%s field(s): HubSpot held our own unconfirmed write; the LMS value goes", settled)
    return settled
