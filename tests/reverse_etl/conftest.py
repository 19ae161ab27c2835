"""Fixtures shared by the reverse ETL tests against the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reverse_etl.test_retl_sync_integration import TOKEN, Hub


@pytest.fixture
def fast_hub(fresh_sandbox: Any, tmp_path: Path) -> Iterator[Hub]:
    """A HubSpot emulator that answers only our token, with its rate limit out of the way."""
    fresh_sandbox.control_post("hubspot", "/_sandbox/chaos", {"rate_max": 100_000})
    fresh_sandbox.control_post("hubspot", "/_sandbox/auth", {"tokens": [TOKEN]})
    hub = Hub(fresh_sandbox, tmp_path)
    yield hub
    fresh_sandbox.control_post("hubspot", "/_sandbox/auth", {"tokens": None})
    fresh_sandbox.control_post("hubspot", "/_sandbox/chaos", {})
