"""A real uvicorn server in a thread on a free 127.0.0.1 port, for both emulators' tests.

The emulators must not share code with our clients, but their tests may use our plumbing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from lmsbridge_core.serving import serve_in_background


@contextmanager
def serve(app: Any, lifespan: Literal["auto", "on", "off"] = "auto") -> Iterator[str]:
    """Run an ASGI app under a real uvicorn server and yield its base URL."""
    with serve_in_background(app, "emulator", lifespan=lifespan) as url:
        yield url
