"""The enrollment outcome draw on its own: no files, no Context, just a seeded Random."""

from __future__ import annotations

import random

from sandbox.generator.catalog import COURSES
from sandbox.generator.clock import DAY
from sandbox.generator.lms import draw_outcome

AS_OF = 1_750_000_000.0


def test_outcomes_are_consistent_with_themselves() -> None:
    rng = random.Random(5)
    seen_rates = set()
    for i in range(2000):
        course = COURSES[i % len(COURSES)]
        enrolled = float(int(AS_OF - rng.uniform(0, 400) * DAY))
        o = draw_outcome(rng, course, enrolled, AS_OF)
        seen_rates.add("done" if o.completed else ("part" if o.rate else "zero"))
        if o.completed:
            assert o.rate == 100 and o.done == int(o.done) and enrolled < o.done < AS_OF
            assert o.finished == o.done
        else:
            assert 0 <= o.rate <= 95 and o.finished == enrolled
        assert bool(o.grades) == (o.rate >= 40 and bool(course.assessment_ids))
        end = o.done if o.completed else AS_OF
        assert all(enrolled < submitted < end for _, _, submitted in o.grades)
        assert (o.cert_at is not None) == (o.completed and bool(course.certifies))
        assert o.completed_score == (o.average if o.grades else "")
    assert seen_rates == {"done", "part", "zero"}


def test_same_seed_same_outcome() -> None:
    course = next(c for c in COURSES if c.certifies and c.assessment_ids)
    draws = [draw_outcome(random.Random(9), course, AS_OF - 90 * DAY, AS_OF) for _ in range(2)]
    assert draws[0] == draws[1]
