"""The webhook receiver running in a background thread, for the demo and the tests.

Production runs it in the foreground (`lmsbridge webhooks serve`); here it must live next
to a flow run in the same process and stop cleanly afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lmsbridge_core.serving import serve_in_background
from lmsbridge_core.settings import Settings


@contextmanager
def background_receiver(settings: Settings) -> Iterator[str]:
    """Serve `extract.webhooks` on a free 127.0.0.1 port; yields the delivery URL."""
    from extract.webhooks import create_app

    with serve_in_background(create_app(settings), "webhook receiver") as base_url:
        yield f"{base_url}/webhooks/learnworlds"


def deliver_fresh_activity(sandbox: Any, hook_url: str, learners: int = 40, seed: int = 1) -> int:
    """Have some learners act now, and wait until LearnWorlds delivered every webhook."""
    sandbox.control_post("lms", "webhooks", {"url": hook_url})
    sandbox.control_post("lms", "activity", {"learners": learners, "seed": seed})
    deadline = time.monotonic() + 120
    while (log := sandbox.control_get("lms", "webhooks"))["pending"]:
        if time.monotonic() > deadline:
            raise RuntimeError("webhook deliveries still pending after 120 s")
        time.sleep(0.2)
    # Later activity would not be delivered anywhere: the receiver stops with this block.
    sandbox.control_post("lms", "webhooks", {"url": None})
    return sum(1 for d in log["deliveries"] if d.get("delivered"))
