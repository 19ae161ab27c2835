"""Session fixtures shared by every test: a small generated dataset and the sandbox serving it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# No telemetry or network from the tools under test; a cold Prefect server needs the time.
for _key, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}.items():
    os.environ.setdefault(_key, _value)

from sandbox.generator import generate  # noqa: E402
from sandbox.runner import SandboxProcess  # noqa: E402

DATASET_LEARNERS = 300
DATASET_SEED = 7


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 learners, seed 7 (as_of = today 00:00 UTC); read `manifest.json` for counts."""
    out = tmp_path_factory.mktemp("dataset") / "data"
    generate(out, DATASET_LEARNERS, DATASET_SEED)
    return out


@pytest.fixture(scope="session")
def sandbox(dataset_dir: Path) -> Iterator[SandboxProcess]:
    """Both emulators over `dataset_dir`, with the real rate limits (100 / 10 s, 30 / 10 s)."""
    with SandboxProcess(dataset_dir) as process:
        yield process


@pytest.fixture
def fresh_sandbox(sandbox: SandboxProcess) -> SandboxProcess:
    """The session sandbox reloaded from the dataset, counters zeroed, chaos off."""
    sandbox.reload()
    return sandbox
