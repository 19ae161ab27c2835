"""Against the HubSpot emulator: a `both` field (winner hubspot) whose HubSpot value is our own
write that was never confirmed (a lost answer, a killed run) is not a HubSpot-side change, so
the learner's newer LMS edit goes to HubSpot, as in an uninterrupted run; a person's edit
still wins by the rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reverse_etl.client import HubSpotClient
from reverse_etl.field_plan import FieldRow, Recorded, build_field_plan
from reverse_etl.mappings import FieldMapping
from reverse_etl.own_writes import settle_own_writes
from reverse_etl.plan import ConfirmedState
from tests.reverse_etl.test_retl_sync_integration import TOKEN, Hub

PHONE = FieldMapping(lms="fields.phone", hubspot="phone", type="string", direction="both",
                     winner="hubspot")  # fmt: skip


def _write(hub: Hub, contact: str, properties: dict[str, str]) -> None:
    response = hub.api("PATCH", f"/crm/v3/objects/contacts/{contact}", {"properties": properties})
    assert response.status_code == 200, response.text


def test_our_unconfirmed_write_is_not_a_hubspot_change_but_a_persons_edit_is(
    fast_hub: Hub,
) -> None:
    hub = fast_hub
    ours, person, learned = (c["id"] for c in hub.contacts[:3])
    now = datetime.now(UTC)
    state = {}
    for n, contact in enumerate((ours, person)):
        _write(hub, contact, {"phone": "5550100"})  # agreed, written by us
        state[(f"l{n}", PHONE.key)] = Recorded("5550100", None, "hubspot", now - timedelta(hours=1))
    _write(hub, ours, {"phone": "5550111"})  # sent, answer lost: never agreed
    hub.sandbox.control_post(
        "hubspot", f"/_sandbox/objects/contacts/{person}/edit", {"properties": {"phone": "5550199"}}
    )
    # Agreed by seeing both sides equal (no write of ours in this history): our signature
    # comes from a value a one-way contacts sync confirmed on the same contact.
    _write(hub, learned, {"phone": "5550100", "jobtitle": "Engineer"})
    _write(hub, learned, {"phone": "5550111"})
    state[("l2", PHONE.key)] = Recorded("5550100", None, None, None)
    confirmed = {"learner-2": ConfirmedState(learned, "", {"jobtitle": "Engineer"})}

    # HubSpot read by this run's extract, after the last recorded write.
    rows = [
        FieldRow("l0", "u0", ours, PHONE, "5550122", "5550111", now, now),
        FieldRow("l1", "u1", person, PHONE, "5550122", "5550199", now, now),
        FieldRow("l2", "u2", learned, PHONE, "5550122", "5550111", now, now),
    ]
    plan = build_field_plan(rows, state)
    # The blind spot: both sides changed since the agreement, HubSpot wins by the rule.
    assert [(d.way, d.value) for d in plan.decisions] == [
        ("to_lms", "5550111"), ("to_lms", "5550199"), ("to_lms", "5550111"),
    ]  # fmt: skip

    with HubSpotClient(hub.url, TOKEN) as client:
        assert settle_own_writes(plan, client, state, [confirmed]) == 2
        assert client.counters.calls == 1  # one history read for the three contacts
        way = {d.row.learner_key: (d.way, d.value) for d in plan.decisions}
        assert way == {
            "l0": ("to_hubspot", "5550122"),
            "l1": ("to_lms", "5550199"),  # a person's edit: the rule stands
            "l2": ("to_hubspot", "5550122"),
        }
        # No both-sides conflict (the usual run): no read at all.
        calm = build_field_plan(
            [FieldRow("l0", "u0", ours, PHONE, "5550122", "5550100", now, now)], state
        )
        assert settle_own_writes(calm, client, state) == 0
        assert client.counters.calls == 1
