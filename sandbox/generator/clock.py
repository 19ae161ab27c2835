"""Timestamps in the formats the real APIs send, and ids shaped like theirs."""

from __future__ import annotations

import random
import time

DAY = 86400.0


def hubspot_time(ts: float) -> str:
    """ISO-8601 UTC with milliseconds and `Z`, as HubSpot returns datetimes."""
    ms = int(ts * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def iso_seconds(ts: float) -> str:
    """ISO-8601 UTC to the second, the history CSV's `occurred_at`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def lms_time(ts: float) -> float:
    """LearnWorlds sends unix seconds as floats with microseconds."""
    return round(ts, 6)


class ObjectIds:
    """MongoDB-style ids as LearnWorlds uses: 4 bytes of creation second, 5 random, 3 counter.

    The counter makes ids unique within a dataset, so ground truth never suffers a collision.
    """

    def __init__(self, rng: random.Random) -> None:
        self._machine = rng.getrandbits(40)
        self._counter = rng.getrandbits(24)

    def new(self, ts: float) -> str:
        self._counter = (self._counter + 1) & 0xFFFFFF
        return f"{int(ts) & 0xFFFFFFFF:08x}{self._machine:010x}{self._counter:06x}"


class Counter:
    """Sequential numeric-string ids, as HubSpot gives records of one object type."""

    def __init__(self, start: int) -> None:
        self._next = start

    def new(self) -> str:
        value = self._next
        self._next += 1
        return str(value)
