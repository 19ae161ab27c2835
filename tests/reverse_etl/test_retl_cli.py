"""`python -m reverse_etl`: bad input is a clear message and exit code, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LMSBRIDGE_")}
    full_env.update(
        {
            "LMSBRIDGE_WAREHOUSE_PATH": str(tmp_path / "missing.duckdb"),
            "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN": "pat-na1-cli-secret-1234",
        },
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "reverse_etl", "sync", *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_bad_sync_config_names_the_field(tmp_path: Path) -> None:
    config = tmp_path / "syncs.yml"
    config.write_text(
        (ROOT / "reverse_etl" / "syncs.yml")
        .read_text()
        .replace("mode: create_once", "mode: create_twice")
    )
    result = run(tmp_path, "--dry-run", LMSBRIDGE_SYNC_CONFIG_PATH=str(config))
    assert result.returncode == 2
    assert "syncs.2.mode" in result.stderr and "Traceback" not in result.stderr


def test_missing_warehouse_on_dry_run_is_a_clear_error(tmp_path: Path) -> None:
    result = run(
        tmp_path, "--dry-run", LMSBRIDGE_SYNC_CONFIG_PATH=str(ROOT / "reverse_etl" / "syncs.yml")
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr
    assert "pat-na1-cli-secret-1234" not in result.stderr + result.stdout
