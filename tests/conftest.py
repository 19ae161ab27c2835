"""Session fixtures shared by every test: a small generated dataset and the sandbox serving it."""

from __future__ import annotations

import os
from collections import Counter
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


# `make test` runs `-n 2 --dist loadscope --no-loadscope-reorder`: xdist's own reorder (modules
# with more tests first) would start the one-test Spark module last, and that worker would
# finish it alone for minutes. Here the Spark module goes first, beside the rest, then the
# modules with more tests, as xdist's reorder does (the order is the same on every worker).
FIRST = ("tests/flows/test_spark_engine.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    module = [item.nodeid.split("::")[0] for item in items]
    count = Counter(module)
    first_index: dict[str, int] = {}
    for index, name in enumerate(module):
        first_index.setdefault(name, index)
    order = {id(item): i for i, item in enumerate(items)}
    items.sort(
        key=lambda item: (
            not item.nodeid.startswith(FIRST),
            -count[item.nodeid.split("::")[0]],
            first_index[item.nodeid.split("::")[0]],
            order[id(item)],
        )
    )
