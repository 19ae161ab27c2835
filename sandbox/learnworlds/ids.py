"""LearnWorlds-style identifiers: MongoDB ObjectIds and course slugs."""

from __future__ import annotations

import itertools
import os
import re
import threading

_counter = itertools.count(int.from_bytes(os.urandom(3), "big"))
_process_bytes = os.urandom(5).hex()
_lock = threading.Lock()
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


def object_id(created: float) -> str:
    """A 24-hex ObjectId whose first 8 hex digits are the creation unix second, as Mongo's are."""
    with _lock:
        count = next(_counter) & 0xFFFFFF
    return f"{int(created) & 0xFFFFFFFF:08x}{_process_bytes}{count:06x}"


def is_object_id(value: str) -> bool:
    return bool(_OBJECT_ID.match(value))


def slugify(title: str) -> str:
    """Course ids are lowercase-hyphenated titles (`10-secrets-of-sleep-walking`)."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
