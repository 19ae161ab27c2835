"""State shared by the record builders of one generation run."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from sandbox.generator.clock import DAY, Counter, ObjectIds
from sandbox.generator.output import DatasetFiles
from sandbox.generator.pools import Pools
from sandbox.generator.rates import MessRates
from sandbox.learnworlds.records import ODD_SCORE_SHAPES

# LMS history in the CSV starts this long before as_of; the API keeps the last year only.
HISTORY_DAYS = 2 * 365
API_DAYS = 365
# Early API events that the CSV export repeats (the same real event in both sources).
OVERLAP_DAYS = 60


@dataclass
class Context:
    rng: random.Random
    pools: Pools
    files: DatasetFiles
    rates: MessRates
    as_of: float
    # Multiplies course enrollments per learner (and all activity that follows them).
    activity_scale: float = 1.0
    # Draws the shape a value is written in (a score "OK", a whole-second time); separate
    # from rng so the shares can change without moving any other generated value.
    shapes: random.Random = field(default_factory=lambda: random.Random(0))
    # Seeds the per-person profile streams (sandbox.generator.profiles).
    profile_seed: str = "0"
    # Draws the CRM engagements (sandbox.generator.engagements), apart from rng for the same
    # reason as shapes.
    crm: random.Random = field(default_factory=lambda: random.Random("crm-0"))
    owner_ids: list[str] = field(default_factory=list)
    oids: ObjectIds = field(init=False)
    contact_ids: Counter = field(default_factory=lambda: Counter(101))
    company_ids: Counter = field(default_factory=lambda: Counter(5_000_001))
    deal_ids: Counter = field(default_factory=lambda: Counter(9_000_001))
    # HubSpot numbers calls, emails and meetings in one engagement id space.
    engagement_ids: Counter = field(default_factory=lambda: Counter(30_000_000_001))
    person_seq: int = 0
    certificates: int = 0
    bad_csv: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.oids = ObjectIds(self.rng)

    @property
    def api_start(self) -> float:
        return self.as_of - API_DAYS * DAY

    @property
    def history_start(self) -> float:
        return self.as_of - HISTORY_DAYS * DAY

    def odd_score_shape(self) -> int | None:
        """Every sixth certificate gets the next unusual score shape, so even a small
        dataset holds each of them while most scores stay numbers."""
        self.certificates += 1
        if self.certificates % 6 != 1:
            return None
        return (self.certificates // 6) % ODD_SCORE_SHAPES

    def next_person(self) -> int:
        # Free-mail local parts end in this number, which keeps them unique per person.
        self.person_seq += 1
        return self.person_seq
