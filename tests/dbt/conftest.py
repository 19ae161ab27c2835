"""Built warehouses shared by the whole test session: a dataset landed by dlt + one `dbt build`
each.

Under pytest-xdist every worker would otherwise build its own copy; the first worker to
arrive builds under a file lock in the session-wide temp root and the others reuse it.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from extract.dataset_source import land_dataset
from flows.dbt_step import SKIP_UNIT_TESTS
from tests.dbt.bad_input_dataset import write_bad_input_dataset
from tests.dbt.dbt_runner import DbtResult, run_dbt
from tests.dbt.tiny_dataset import AS_OF, write_tiny_dataset

GENERATED_LEARNERS = 300
GENERATED_SEED = 7


@dataclass(frozen=True)
class BuiltWarehouse:
    path: Path
    dataset: Path
    work_dir: Path
    as_of: str
    build: DbtResult

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql).fetchall()


def generate_dataset(out: Path, learners: int, seed: int, as_of: str) -> Path:
    """The sandbox generator, through its CLI (docs/contracts.md section 1)."""
    command = [sys.executable, "-m", "sandbox", "generate", "--learners", str(learners)]
    command += ["--seed", str(seed), "--out", str(out), "--as-of", as_of]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out


def _shared_build(
    factory: pytest.TempPathFactory,
    name: str,
    make_dataset: Callable[[Path], Path],
    *,
    unit_tests: bool = False,
) -> BuiltWarehouse:
    """Unit tests read fixed inputs, not the dataset: one shared build runs them (the tiny
    one); the others leave them out."""
    # under xdist, getbasetemp() is per worker and its parent is this session's directory;
    # without xdist the parent is shared by all sessions, so stay in getbasetemp()
    session_dir = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        session_dir = session_dir.parent
    root = session_dir / f"lmsbridge_{name}"
    root.mkdir(exist_ok=True)
    marker = root / "build.json"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            dataset = make_dataset(root / "dataset")
            warehouse = root / "lmsbridge.duckdb"
            # the extract's own dlt pipelines, received and imported as of the build date
            land_dataset(dataset, warehouse, as_of=datetime.fromisoformat(AS_OF))
            command = ["build", *(() if unit_tests else SKIP_UNIT_TESTS)]
            build = run_dbt(command, warehouse, root, AS_OF)
            marker.write_text(json.dumps(asdict(build)))
    build = DbtResult(**json.loads(marker.read_text()))
    return BuiltWarehouse(root / "lmsbridge.duckdb", root / "dataset", root, AS_OF, build)


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """The hand-made dataset: one learner per identity rule."""
    return _shared_build(tmp_path_factory, "tiny", write_tiny_dataset, unit_tests=True)


@pytest.fixture(scope="session")
def generated_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """A small generated dataset with the generator's realistic identity mess."""
    return _shared_build(
        tmp_path_factory,
        "generated",
        lambda out: generate_dataset(out, GENERATED_LEARNERS, GENERATED_SEED, AS_OF),
    )


@pytest.fixture(scope="session")
def bad_input_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """The hand-made dataset plus one record per unexpected value shape."""
    return _shared_build(tmp_path_factory, "bad_input", write_bad_input_dataset)
