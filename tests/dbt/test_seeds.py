"""Generated seeds stay in step with their generators' sources."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[2] / "dbt_project" / "scripts"
SEEDS = SCRIPTS.parent / "seeds"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _column(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def test_email_domain_seeds_match_installed_packages():
    generator = _load("gen_email_domain_seeds")
    for name, domains in generator.expected_seeds().items():
        assert _column(SEEDS / name, "domain") == domains, name
    assert "gmail.com" in _column(SEEDS / generator.FREE_SEED, "domain")


def test_nfkc_seed_matches_unicodedata(tmp_path: Path):
    generator = _load("gen_nfkc_seed")
    regenerated = tmp_path / "nfkc_map.csv"
    count = generator.write_seed(regenerated)
    assert regenerated.read_bytes() == (SEEDS / "nfkc_map.csv").read_bytes()
    assert count > 1000
    targets = dict(
        zip(_column(regenerated, "source_char"), _column(regenerated, "target_text"), strict=True)
    )
    assert targets["=\uff49"] == "=i"
    assert targets["=\ufb01"] == "=fi"
