"""Shared fixtures for the sandbox tests. HubSpot emulator fixtures are prefixed `hs_`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.hubspot import HubSpotConfig, create_app
from tests.sandbox.hubspot_support import Api, write_dataset
from tests.sandbox.server_support import serve


@pytest.fixture(scope="session")
def hs_dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("hs_dataset"))


@pytest.fixture(scope="session")
def hs_url() -> Iterator[str]:
    """One emulator for the session, with limits high enough not to interfere."""
    # Search without indexing lag: these tests check what search matches, right after a
    # write; the lag itself is tested with its own portal (test_hubspot_search.py).
    config = HubSpotConfig(
        rate_max=1_000_000,
        search_rate_per_s=1_000_000,
        daily_limit=10**9,
        search_index_lag_ms=0,
    )
    with serve(create_app(config)) as url:
        yield url


@pytest.fixture
def hs(hs_url: str, hs_dataset_dir: Path) -> Iterator[Api]:
    """A client on a freshly reset emulator holding the small test dataset."""
    with Api(hs_url) as api:
        api.control("reset")
        api.control("load", {"path": str(hs_dataset_dir)})
        yield api
