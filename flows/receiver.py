"""The webhook receiver running in a background thread, for the demo and the tests.

Production runs it in the foreground (`lmsbridge webhooks serve`); here it must live next
to a flow run in the same process and stop cleanly afterwards.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from lmsbridge_core.settings import Settings


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def background_receiver(settings: Settings) -> Iterator[str]:
    """Serve `extract.webhooks` on a free 127.0.0.1 port; yields the delivery URL."""
    from extract.webhooks import create_app

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="webhook-receiver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("webhook receiver did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/webhooks/learnworlds"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


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
