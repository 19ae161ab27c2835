"""Fixtures for the extract tests.

The 300-learner case is the shared `fresh_sandbox` (tests/conftest.py) with its rate limits
raised through chaos; the 30-learner case (for "10x learners, same calls") is our own
sandbox process over a 30-learner dataset with the same seed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.generator.generate import generate
from sandbox.runner import SandboxProcess
from tests.extract.helpers import FAST


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("extract-data") / "small"
    generate(out, 30, 7)
    return out


def _start(data: Path) -> SandboxProcess:
    return SandboxProcess(data, hubspot_rate_max=FAST, lms_rate_max=FAST).start()


@pytest.fixture(scope="session")
def small_sandbox_proc(small_dataset: Path) -> Iterator[SandboxProcess]:
    sb = _start(small_dataset)
    yield sb
    sb.close()


@pytest.fixture
def small_sandbox(small_sandbox_proc: SandboxProcess) -> SandboxProcess:
    """The 30-learner sandbox, reloaded to the generated state for each test."""
    small_sandbox_proc.reload()
    return small_sandbox_proc


@pytest.fixture
def large_sandbox(fresh_sandbox: SandboxProcess) -> SandboxProcess:
    """The shared 300-learner sandbox with the rate limits out of the way."""
    for which in ("hubspot", "lms"):
        fresh_sandbox.control_post(which, "chaos", {"rate_max": FAST})
    return fresh_sandbox
