"""Sales and marketing engagements (calls, emails, meetings) around a deal's contacts, in the
shape the CRM v3 API returns them, associated with their contacts.

Draws come from `ctx.crm`, a stream of their own, so adding or tuning engagements moves no
other generated value (contacts, deals and learning activity stay as they were).
"""

from __future__ import annotations

import random
from typing import Any

from sandbox.generator.clock import DAY, hubspot_time
from sandbox.generator.context import Context

# associationTypeIds HubSpot defines from each engagement type to contacts.
TO_CONTACT = {"calls": 194, "emails": 198, "meetings": 200}
KINDS = ("emails", "calls", "meetings")
_KIND_WEIGHTS = (50, 30, 20)
_PER_CONTACT = (1, 2, 3, 4, 6)
_PER_CONTACT_WEIGHTS = (30, 25, 20, 15, 10)
# Shares of messiness real portals show.
NO_ENGAGEMENT = 0.25  # a deal contact nobody called, emailed or met
NO_TIMESTAMP = 0.03  # imported or legacy activities without hs_timestamp
SHARED = 0.15  # one email or meeting with several of the deal's contacts
FUTURE_MEETING = 0.05  # booked, not held yet

CALL_STATUS = (("COMPLETED", 75), ("NO_ANSWER", 15), ("BUSY", 5), ("FAILED", 5))
MEETING_OUTCOME = (("COMPLETED", 80), ("NO_SHOW", 8), ("CANCELED", 7), ("RESCHEDULED", 5))
SUBJECTS = ("Following up", "Training plan", "Pricing", "Quick question", "Next steps")


def _pick(rng: random.Random, options: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([o for o, _ in options], [w for _, w in options])[0]


def _when(ctx: Context, created: float, closed: float | None) -> float:
    """Before the deal opened, while it was open, or after it closed (anchor-window edges)."""
    rng = ctx.crm
    end = closed if closed is not None else ctx.as_of
    roll = rng.random()
    if roll < 0.45:
        at = created - rng.uniform(0.1, 75) * DAY
    elif roll < 0.85 or closed is None:
        at = created + rng.random() * max(end - created, 0.0)
    else:
        at = closed + rng.uniform(0.5, 20) * DAY
    return min(at, ctx.as_of - 60)


def _properties(ctx: Context, kind: str, at: float) -> dict[str, Any]:
    rng = ctx.crm
    if kind == "calls":
        status = _pick(rng, CALL_STATUS)
        props = {
            "hs_call_title": f"Call: {rng.choice(SUBJECTS)}",
            "hs_call_direction": rng.choices(("OUTBOUND", "INBOUND"), (80, 20))[0],
            "hs_call_status": status,
        }
        if status == "COMPLETED":
            props["hs_call_duration"] = str(rng.randint(60, 1800) * 1000)
        return props
    if kind == "emails":
        direction = rng.choices(("EMAIL", "INCOMING_EMAIL"), (65, 35))[0]
        props = {"hs_email_direction": direction, "hs_email_subject": rng.choice(SUBJECTS)}
        if direction == "EMAIL":
            props["hs_email_status"] = "SENT"
        return props
    outcome = "SCHEDULED" if at > ctx.as_of else _pick(rng, MEETING_OUTCOME)
    return {
        "hs_meeting_title": f"Meeting: {rng.choice(SUBJECTS)}",
        "hs_meeting_start_time": hubspot_time(at),
        "hs_meeting_end_time": hubspot_time(at + rng.choice((30, 45, 60)) * 60),
        "hs_meeting_outcome": outcome,
    }


def _write_one(ctx: Context, kind: str, contacts: list[str], at: float, owner: str) -> None:
    rng = ctx.crm
    eid = ctx.engagement_ids.new()
    if kind == "meetings":
        # booked days ahead; a few are still to come
        created = min(at - rng.uniform(1, 10) * DAY, ctx.as_of - 120)
        if rng.random() < FUTURE_MEETING:
            at = ctx.as_of + rng.uniform(1, 14) * DAY
    else:
        created = min(at + rng.uniform(0, 2) * 3600, ctx.as_of - 30)
    modified = min(created + rng.uniform(0, 3) * DAY, ctx.as_of)
    props: dict[str, Any] = {
        "hs_createdate": hubspot_time(created),
        "hs_lastmodifieddate": hubspot_time(modified),
        "hubspot_owner_id": owner if rng.random() < 0.85 else rng.choice(ctx.owner_ids),
        "hs_object_id": eid,
        **_properties(ctx, kind, at),
    }
    if rng.random() >= NO_TIMESTAMP:
        props["hs_timestamp"] = hubspot_time(at)
    ctx.files[f"hubspot/{kind}.jsonl"].write(
        {
            "id": eid,
            "properties": props,
            "createdAt": hubspot_time(created),
            "updatedAt": hubspot_time(modified),
            "archived": False,
        }
    )
    for contact_id in contacts:
        ctx.files["hubspot/associations.jsonl"].write(
            {
                "from_type": kind,
                "from_id": eid,
                "to_type": "contacts",
                "to_id": contact_id,
                "type_id": TO_CONTACT[kind],
                "category": "HUBSPOT_DEFINED",
            }
        )


def write_deal_engagements(
    ctx: Context, contacts: list[str], created: float, closed: float | None, owner: str
) -> None:
    """Engagements with a deal's contacts: some before the deal opened, some after it closed,
    some contacts with none, a few without hs_timestamp, some shared by several contacts."""
    rng = ctx.crm
    for contact_id in contacts:
        if rng.random() < NO_ENGAGEMENT:
            continue
        for _ in range(rng.choices(_PER_CONTACT, _PER_CONTACT_WEIGHTS)[0]):
            kind = rng.choices(KINDS, _KIND_WEIGHTS)[0]
            with_them = [contact_id]
            others = [c for c in contacts if c != contact_id]
            if others and kind != "calls" and rng.random() < SHARED:
                with_them.append(rng.choice(others))
            _write_one(ctx, kind, with_them, _when(ctx, created, closed), owner)
