"""People of one company block: contacts and learners with identity mess, and the ground
truth for every learner, known from how each case was built (no matcher is run)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.generator.catalog import PRODUCTS
from sandbox.generator.context import Context
from sandbox.generator.hubspot import Company, write_contact, write_deal
from sandbox.generator.lms import Learner, write_learner
from sandbox.generator.pools import DISPOSABLE, FREE_MAIL, SHARED_INBOXES, UNKNOWN_TLD, slug
from sandbox.generator.rates import KIND_SIZES

SEVERAL_LEARNERS = "several_learners_one_contact"
ID_CONFLICT = "lms_user_id_conflicts_with_email"
SEVERAL_CONTACTS = "several_contacts_additional_email"
PLUS_TAGS = ("lms", "training", "courses", "learn")


def normalize(email: str) -> str:
    """DESIGN.md's normalization: trim, lowercase, NFKC (no +tag or dot stripping)."""
    return unicodedata.normalize("NFKC", email.strip().lower())


@dataclass(frozen=True)
class Person:
    n: int
    first: str
    last: str
    f: str  # slugged first name, for email local parts
    l: str  # noqa: E741


@dataclass(frozen=True)
class ContactRef:
    id: str
    company_id: str | None


@dataclass
class Block:
    """One company and its people; deals are drawn from its contacts' learning."""

    ctx: Context
    company: Company
    used_locals: set[str] = field(default_factory=lambda: set(SHARED_INBOXES))
    inboxes: list[str] = field(default_factory=lambda: list(SHARED_INBOXES))
    company_contacts: list[str] = field(default_factory=list)
    deal_anchors: list[tuple[str, float]] = field(default_factory=list)

    # ---- people and their addresses -------------------------------------------------

    def person(self) -> Person:
        rng = self.ctx.rng
        first = rng.choice(self.ctx.pools.first_names)
        last = rng.choice(self.ctx.pools.last_names)
        return Person(self.ctx.next_person(), first, last, slug(first), slug(last))

    def work(self, p: Person) -> str:
        for local in (f"{p.f}.{p.l}", f"{p.f[0]}{p.l}", f"{p.f}{p.l[0]}", f"{p.l}.{p.f}"):
            if local not in self.used_locals:
                break
        else:
            local = f"{p.f}.{p.l}.{p.n}"
        self.used_locals.add(local)
        return f"{local}@{self.company.domain}"

    def personal(self, p: Person, variant: int = 0, domain: str | None = None) -> str:
        # The person number ends every free-mail local part, so no two people share one;
        # the variants differ in more than dots, so they never look like a Gmail-dot pair.
        local = (f"{p.f}.{p.l}{p.n}", f"{p.f[0]}{p.l}{p.n}", f"{p.l}.{p.f}{p.n}")[variant]
        return f"{local}@{domain or self.ctx.rng.choice(FREE_MAIL)}"

    # ---- emails with mess --------------------------------------------------------------

    def case_variant(self, email: str) -> str:
        local, _, domain = email.partition("@")
        style = self.ctx.rng.randrange(3)
        if style == 0:
            return (
                f"{'.'.join(part.capitalize() for part in local.split('.'))}@{domain.capitalize()}"
            )
        if style == 1:
            return f"{local.upper()}@{domain}"
        return email.upper()

    def case_whitespace(self, email: str) -> str:
        rng = self.ctx.rng
        roll = rng.random()
        if roll < 0.6:
            return self.case_variant(email)
        padded = (
            rng.choice((" ", "  ")) + email
            if rng.random() < 0.5
            else email + rng.choice((" ", "  "))
        )
        return padded if roll < 0.8 else self.case_variant(padded)

    def unicode_variant(self, email: str) -> str:
        local, _, domain = email.partition("@")
        for plain, ligature in (("fi", "\ufb01"), ("fl", "\ufb02"), ("ff", "\ufb00")):
            if plain in local:
                return f"{local.replace(plain, ligature, 1)}@{domain}"
        # Fullwidth forms of ASCII letters and digits fold back under NFKC.
        pos = [i for i, ch in enumerate(local) if ch.isascii() and ch.isalnum()]
        chars = list(local)
        for i in self.ctx.rng.sample(pos, min(2, len(pos))):
            chars[i] = chr(ord(chars[i]) + 0xFEE0)
        return f"{''.join(chars)}@{domain}"

    # ---- writing -----------------------------------------------------------------------

    def learner(self, p: Person, email: str) -> Learner:
        at_company = normalize(email).endswith("@" + self.company.domain)
        return write_learner(
            self.ctx, p.first, p.last, email, self.company.name if at_company else None
        )

    def contact(
        self,
        p: Person,
        email: str,
        *,
        associated: bool = True,
        additional: list[str] | None = None,
        lms_user_id: str | None = None,
        near: float | None = None,
    ) -> ContactRef:
        company = self.company if associated else None
        cid = write_contact(
            self.ctx,
            p.first,
            p.last,
            email,
            company=company,
            additional=additional,
            lms_user_id=lms_user_id,
            near=near,
        )
        if associated:
            self.company_contacts.append(cid)
        return ContactRef(cid, company.id if company else None)

    def truth(
        self,
        lr: Learner,
        mess: str,
        matched: ContactRef | None,
        method: str = "none",
        reason: str = "",
    ) -> None:
        if matched and matched.company_id:
            company_id, company_method = matched.company_id, "association"
        elif normalize(lr.email).rpartition("@")[2] == self.company.domain:
            company_id, company_method = self.company.id, "email_domain"
        else:
            company_id, company_method = "", "none"
        if matched is not None and matched.company_id == self.company.id:
            self.deal_anchors.extend((matched.id, t) for t in lr.activity[:3])
        self.ctx.files.truth.write(
            (
                lr.id,
                lr.email,
                matched.id if matched else "",
                company_id,
                "true" if reason else "false",
                reason,
                mess,
                method if matched else "none",
                company_method,
            )
        )

    def _simple(
        self,
        mess: str,
        contact_email: str,
        learner_email: str,
        method: str,
        *,
        associated: bool = True,
        additional: list[str] | None = None,
        p: Person | None = None,
    ) -> int:
        """One person, one contact, one learner, matched by `method` (or by id if the
        contact already carries the learner's id from an earlier sync)."""
        p = p or self.person()
        lr = self.learner(p, learner_email)
        carries = self.ctx.rng.random() < self.ctx.rates.contact_lms_user_id
        ref = self.contact(
            p,
            contact_email,
            associated=associated,
            additional=additional,
            lms_user_id=lr.id if carries else None,
            near=lr.created,
        )
        self.truth(lr, mess, ref, "lms_user_id" if carries else method)
        return 1

    # ---- the kinds of mess, each returns how many learners it wrote ---------------------

    def clean(self, remaining: int) -> int:
        p = self.person()
        email = self.work(p) if self.ctx.rng.random() < 0.85 else self.personal(p)
        return self._simple("clean", email, email, "email", p=p)

    def case_whitespace_kind(self, remaining: int) -> int:
        p = self.person()
        email = self.work(p)
        return self._simple("case_whitespace", email, self.case_whitespace(email), "email", p=p)

    def unicode_kind(self, remaining: int) -> int:
        p = self.person()
        email = self.work(p) if self.ctx.rng.random() < 0.7 else self.personal(p)
        return self._simple("unicode", email, self.unicode_variant(email), "email", p=p)

    def additional_email(self, remaining: int) -> int:
        p = self.person()
        personal = self.personal(p)
        return self._simple(
            "additional_email",
            self.work(p),
            personal,
            "additional_email",
            additional=[personal],
            p=p,
        )

    def personal_freemail(self, remaining: int) -> int:
        p = self.person()
        lr = self.learner(p, self.personal(p))
        self.contact(p, self.work(p), near=lr.created)
        self.truth(lr, "personal_freemail", None)
        return 1

    def id_match(self, remaining: int) -> int:
        p = self.person()
        lr = self.learner(p, self.personal(p))
        ref = self.contact(p, self.work(p), lms_user_id=lr.id, near=lr.created)
        self.truth(lr, "id_match", ref, "lms_user_id")
        return 1

    def plus_address(self, remaining: int) -> int:
        rng = self.ctx.rng
        p = self.person()
        work = rng.random() < 0.5
        base = self.work(p) if work else self.personal(p)
        local, _, domain = base.partition("@")
        plus = f"{local}+{rng.choice(PLUS_TAGS)}@{domain}"
        lr = self.learner(p, plus)
        self.contact(p, base, near=lr.created)
        matched = None
        if rng.random() < self.ctx.rates.plus_address_contact:
            # The +tag mailbox has its own contact: the learner belongs to that one.
            matched = self.contact(p, plus, associated=work, near=lr.created)
        self.truth(lr, "plus_address", matched, "email")
        return 1

    def gmail_dots(self, remaining: int) -> int:
        p = self.person()
        dotted = self.personal(p, 0, "gmail.com")
        lr = self.learner(p, dotted.replace(".", "", 1))
        self.contact(p, dotted, near=lr.created)
        self.truth(lr, "gmail_dots", None)
        return 1

    def shared_inbox(self, remaining: int) -> int:
        rng = self.ctx.rng
        size = min(rng.randint(2, 4), remaining)
        if size < 2 or not self.inboxes:
            return self.clean(remaining)
        inbox = f"{self.inboxes.pop(0)}@{self.company.domain}"
        learners = []
        for _ in range(size):
            email = self.case_variant(inbox) if rng.random() < 0.3 else inbox
            learners.append(self.learner(self.person(), email))
        desk = Person(
            self.ctx.next_person(), inbox.partition("@")[0].title(), self.company.name, "", ""
        )
        self.contact(desk, inbox, near=learners[0].created)
        for lr in learners:
            self.truth(lr, "shared_inbox", None, reason=SEVERAL_LEARNERS)
        return size

    def duplicate_learner(self, remaining: int) -> int:
        if remaining < 2:
            return self.clean(remaining)
        p = self.person()
        email = self.work(p)
        first = self.learner(p, email)
        second = self.learner(p, self.case_variant(email))
        self.contact(p, email, near=first.created)
        for lr in (first, second):
            self.truth(lr, "duplicate_learner", None, reason=SEVERAL_LEARNERS)
        return 2

    def id_conflict(self, remaining: int) -> int:
        p, other = self.person(), self.person()
        email = self.work(p)
        lr = self.learner(p, email)
        self.contact(p, email, near=lr.created)
        # Another contact claims this learner's id while the email belongs to the first.
        self.contact(other, self.work(other), lms_user_id=lr.id)
        self.truth(lr, "id_conflict", None, reason=ID_CONFLICT)
        return 1

    def shared_additional_email(self, remaining: int) -> int:
        p = self.person()
        personal = self.personal(p, 0)
        lr = self.learner(p, personal)
        self.contact(p, self.work(p), additional=[personal], near=lr.created)
        # A second record of the same person, from another source, lists the same address.
        self.contact(
            p, self.personal(p, 1), associated=False, additional=[personal], near=lr.created
        )
        self.truth(lr, "shared_additional_email", None, reason=SEVERAL_CONTACTS)
        return 1

    def no_contact(self, remaining: int) -> int:
        rng = self.ctx.rng
        p = self.person()
        roll = rng.random()
        if roll < 0.5:
            email = self.personal(p)
        elif roll < 0.8:
            email = self.work(p)
        else:
            email = f"{p.f}.{p.l}@{rng.choice(self.ctx.pools.words)}{p.n}.{UNKNOWN_TLD}"
        self.truth(self.learner(p, email), "no_contact", None)
        return 1

    def company_by_domain(self, remaining: int) -> int:
        p = self.person()
        email = self.work(p)
        return self._simple("company_by_domain", email, email, "email", associated=False, p=p)

    def freemail_contact(self, remaining: int) -> int:
        p = self.person()
        email = self.personal(p)
        return self._simple("freemail_contact", email, email, "email", associated=False, p=p)

    def disposable(self, remaining: int) -> int:
        p = self.person()
        email = f"{p.f}{p.l}{p.n}@{self.ctx.rng.choice(DISPOSABLE)}"
        self.truth(self.learner(p, email), "disposable", None)
        return 1

    def kind(self, name: str) -> Callable[[int], int]:
        return {
            "clean": self.clean,
            "case_whitespace": self.case_whitespace_kind,
            "unicode": self.unicode_kind,
        }.get(name) or getattr(self, name)

    # ---- the rest of the block -----------------------------------------------------------

    def never_learned(self, count: int) -> None:
        rng = self.ctx.rng
        for _ in range(count):
            p = self.person()
            work = rng.random() < 0.8
            # A few carry an id of an LMS user that no longer exists.
            stale = (
                self.ctx.oids.new(self.ctx.as_of - rng.uniform(400, 900) * 86400)
                if rng.random() < 0.05
                else None
            )
            self.contact(
                p, self.work(p) if work else self.personal(p), associated=work, lms_user_id=stale
            )

    def deals(self, count: int) -> None:
        rng = self.ctx.rng
        if not self.company_contacts:
            return
        for _ in range(count):
            if self.deal_anchors:
                contact_id, anchor = rng.choice(self.deal_anchors)
            else:
                contact_id, anchor = rng.choice(self.company_contacts), None
            others = rng.sample(
                self.company_contacts, min(len(self.company_contacts), rng.randint(0, 2))
            )
            contacts = [contact_id, *(c for c in others if c != contact_id)]
            write_deal(self.ctx, self.company, contacts, anchor, rng.choice(PRODUCTS))


def kind_table(ctx: Context) -> tuple[list[str], list[float]]:
    """Kinds and cumulative draw weights so each kind's share of learners is its rate."""
    rates = ctx.rates.kinds()
    names = ["clean", *rates]
    weights = [max(0.0, 1 - sum(rates.values()))] + [
        r / KIND_SIZES.get(k, 1.0) for k, r in rates.items()
    ]
    total = 0.0
    cumulative = []
    for w in weights:
        total += w
        cumulative.append(total)
    return names, cumulative
