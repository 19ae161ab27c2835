"""Generated engagements (calls, emails, meetings): around deals' contacts, with the mess
real portals hold, and drawn apart from everything else the generator writes."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sandbox.generator import generate
from tests.sandbox.generator_support import AS_OF, jsonl

KINDS = ("calls", "emails", "meetings")


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _engagements(dataset: Path) -> dict[str, dict[str, Any]]:
    return {
        f"{kind}:{e['id']}": e
        for kind in KINDS
        for e in jsonl(dataset / "hubspot" / f"{kind}.jsonl")
    }


def test_engagements_surround_deals_with_realistic_mess(dataset_dir: Path) -> None:
    hub = dataset_dir / "hubspot"
    engagements = _engagements(dataset_dir)
    assert Counter(key.split(":")[0] for key in engagements).keys() == set(KINDS)
    assert len({key.split(":")[1] for key in engagements}) == len(engagements)  # one id space
    edges = [a for a in jsonl(hub / "associations.jsonl") if a["from_type"] in KINDS]
    contacts_of: dict[str, set[str]] = defaultdict(set)
    for edge in edges:
        contacts_of[f"{edge['from_type']}:{edge['from_id']}"].add(edge["to_id"])
    assert contacts_of.keys() == engagements.keys()  # every engagement has a contact
    assert any(len(c) > 1 for c in contacts_of.values())  # shared emails or meetings
    deals = {d["id"]: d["properties"] for d in jsonl(hub / "deals.jsonl")}
    deal_contacts: dict[str, set[str]] = defaultdict(set)
    for a in jsonl(hub / "associations.jsonl"):
        if a["from_type"] == "deals" and a["to_type"] == "contacts":
            deal_contacts[a["from_id"]].add(a["to_id"])
    on_deals = set().union(*deal_contacts.values())
    engaged = set().union(*contacts_of.values())
    assert engaged <= on_deals
    assert on_deals - engaged  # some deal contacts were never called, emailed or met
    as_of = _at(json.loads((dataset_dir / "manifest.json").read_text())["as_of"])
    stamps = [e["properties"].get("hs_timestamp") for e in engagements.values()]
    assert 0 < stamps.count(None) < 0.1 * len(stamps)
    for e in engagements.values():
        props = e["properties"]
        assert props["hs_lastmodifieddate"] >= props["hs_createdate"]
        assert _at(props["hs_lastmodifieddate"]) <= as_of
    # relative to the deals their contacts are on: before creation and after close both occur
    before = after_close = 0
    for key, engagement in engagements.items():
        if engagement["properties"].get("hs_timestamp") is None:
            continue
        at = engagement["properties"]["hs_timestamp"]
        for deal_id, contacts in deal_contacts.items():
            if contacts & contacts_of[key]:
                before += at < deals[deal_id]["createdate"]
                closed = deals[deal_id].get("closedate")
                after_close += closed is not None and at > closed
    assert before and after_close
    meetings = [
        e["properties"] for e in engagements.values() if "hs_meeting_outcome" in e["properties"]
    ]
    assert {"COMPLETED", "SCHEDULED"} <= {m["hs_meeting_outcome"] for m in meetings}


def test_engagements_are_seeded_and_move_nothing_else(tmp_path: Path) -> None:
    generate(tmp_path / "a", 40, seed=3, as_of=AS_OF)
    generate(tmp_path / "b", 40, seed=3, as_of=AS_OF)
    generate(tmp_path / "c", 40, seed=4, as_of=AS_OF)
    for kind in KINDS:
        name = f"hubspot/{kind}.jsonl"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert _engagements(tmp_path / "a") != _engagements(tmp_path / "c")
