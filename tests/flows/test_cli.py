"""The `lmsbridge` CLI: help, exit codes, and one clear line (no traceback) for bad config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmsbridge_cli.cli import app

runner = CliRunner()

COMMANDS = ["run", "resync", "extract", "build", "sync", "status", "verify", "erase", "serve", "resume", "report", "sandbox", "webhooks"]  # fmt: skip


@pytest.fixture
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # No .env from the repo and no LMSBRIDGE_* from the caller's shell.
    monkeypatch.chdir(tmp_path)
    import os

    for key in list(os.environ):
        if key.startswith("LMSBRIDGE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(tmp_path / "wh" / "lmsbridge.duckdb"))
    return tmp_path


def test_help_lists_every_command_and_the_exit_codes() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in COMMANDS:
        assert command in result.output
    assert "3 auth failure" in result.output


@pytest.mark.parametrize(
    "command", [["sync", "--help"], ["extract", "--help"], ["sandbox", "up", "--help"]]
)
def test_subcommand_help(command: list[str]) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_sandbox_without_the_sandbox_package_says_where_it_lives(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An installed wheel has no sandbox package (pyproject.toml leaves it out).
    monkeypatch.setitem(sys.modules, "sandbox.runner", None)
    result = runner.invoke(app, ["sandbox", "up"])
    assert result.exit_code == 2
    assert "ships with the lmsbridge source repository" in result.output
    assert "Traceback" not in result.output


def test_unknown_command_is_bad_usage() -> None:
    assert runner.invoke(app, ["no-such-command"]).exit_code == 2


def test_run_without_token_is_bad_config_without_traceback(clean_env: Path) -> None:
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "LMSBRIDGE_HUBSPOT_ACCESS_TOKEN" in result.output
    assert "Traceback" not in result.output


def test_malformed_setting_names_the_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "pat-na1-canary-cli-token-not-real-0001"
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN", secret)
    monkeypatch.setenv("LMSBRIDGE_AS_OF", "not-a-date")
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 2
    assert "LMSBRIDGE_AS_OF" in result.output
    assert "Traceback" not in result.output
    assert secret not in result.output


def test_run_needs_an_lms_source(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN", "pat-na1-aaaaaaaa-bbbb")
    result = runner.invoke(app, ["run"])
    assert result.exit_code == 2
    assert "LMSBRIDGE_LMS_BASE_URL" in result.output


def test_report_without_snapshot_is_a_clear_failure(clean_env: Path) -> None:
    result = runner.invoke(app, ["report", "--no-docs", "--out", str(clean_env / "r.html")])
    assert result.exit_code == 1
    assert "lmsbridge run" in result.output
    assert "Traceback" not in result.output


def test_status_on_empty_install_succeeds(clean_env: Path) -> None:
    result = runner.invoke(app, ["status"])
    assert result.exit_code == 0
    assert "no warehouse yet" in result.output


def test_resume_clears_a_pause(clean_env: Path) -> None:
    from flows.schedule_state import load_state, record_failure
    from lmsbridge_core.settings import load_settings

    settings = load_settings()
    record_failure(settings, "HTTP 401", auth_failure=True)
    assert load_state(settings).paused
    status = runner.invoke(app, ["status"])
    assert "schedule paused" in status.output
    result = runner.invoke(app, ["resume"])
    assert result.exit_code == 0
    assert "resumed" in result.output
    assert not load_state(settings).paused


def test_importing_flows_changes_nothing(clean_env: Path) -> None:
    code = (
        "import os, sys\n"
        "before = dict(os.environ)\n"
        "import flows, flows.pipeline, flows.serve, flows.environment\n"
        "import lmsbridge_cli.cli, lmsbridge_cli.status, lmsbridge_cli.report\n"
        "import lmsbridge_demo.demo, lmsbridge_demo.receiver\n"
        "assert dict(os.environ) == before, set(os.environ) ^ set(before)\n"
        "assert 'prefect' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=clean_env, timeout=120)
    assert list(clean_env.iterdir()) == []


def test_status_creates_nothing(clean_env: Path) -> None:
    assert runner.invoke(app, ["status"]).exit_code == 0
    assert list(clean_env.iterdir()) == []


def test_unwritable_prefect_home_is_one_line_and_exit_2(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "a-file").write_text("x")
    monkeypatch.setenv("PREFECT_HOME", str(clean_env / "a-file" / ".prefect"))
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN", "pat-na1-aaaaaaaa-bbbb")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    assert "PREFECT_HOME" in result.output
    assert "Traceback" not in result.output


def test_warehouse_under_a_file_stops_serve_with_exit_2(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_env / "a-file").write_text("x")
    monkeypatch.setenv("LMSBRIDGE_WAREHOUSE_PATH", str(clean_env / "a-file" / "lmsbridge.duckdb"))
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2, result.output
    assert "LMSBRIDGE_WAREHOUSE_PATH" in result.output


@pytest.mark.parametrize(("flag", "unit_tests"), [([], False), (["--full"], True)])
def test_build_runs_unit_tests_only_with_full(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, flag: list[str], unit_tests: bool
) -> None:
    from flows import dbt_step

    asked: list[bool] = []

    def fake_build(settings: object, **kwargs: object) -> dbt_step.DbtSummary:
        asked.append(bool(kwargs["unit_tests"]))
        return dbt_step.DbtSummary(models_built=1)

    monkeypatch.setattr(dbt_step, "run_dbt_build", fake_build)
    result = runner.invoke(app, ["build", "--no-publish", *flag])
    assert result.exit_code == 0, result.output
    assert asked == [unit_tests]
