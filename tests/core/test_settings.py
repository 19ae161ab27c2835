"""Settings are validated when loaded, and every bad value names its variable or file."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lmsbridge_core.errors import ConfigurationError, ExitCode, exit_code_for
from lmsbridge_core.settings import Settings, load_settings


def _cli_names(exc: ValidationError) -> list[str]:
    # The CLI prints each error as LMSBRIDGE_<location>; the location is the contract.
    return [f"LMSBRIDGE_{'_'.join(str(p) for p in e['loc']).upper()}" for e in exc.errors()]


@pytest.mark.parametrize(
    ("cron", "reason"),
    [
        ("61 * * * *", "not a valid cron expression"),
        ("*/0 * * * *", "not a valid cron expression"),
        ("every 15 minutes", "has 3 fields; want 5"),
        ("* * * * * *", "has 6 fields; want 5"),
        ("", "has 0 fields; want 5"),
        ("0 0 31 2 *", "never matches a date"),
    ],
)
def test_a_bad_schedule_cron_is_refused_at_load_naming_the_variable(monkeypatch, cron, reason):
    monkeypatch.setenv("LMSBRIDGE_SCHEDULE_CRON", cron)
    with pytest.raises(ValidationError) as err:
        load_settings(_env_file=None)
    assert _cli_names(err.value) == ["LMSBRIDGE_SCHEDULE_CRON"]
    assert reason in err.value.errors()[0]["msg"]


@pytest.mark.parametrize("cron", ["*/15 * * * *", "0 6 * * mon-fri", "@hourly", " 5 4 * * * "])
def test_good_schedules_load(monkeypatch, cron):
    monkeypatch.setenv("LMSBRIDGE_SCHEDULE_CRON", cron)
    assert load_settings(_env_file=None).schedule_cron == cron.strip()


def test_a_dotenv_that_is_not_utf8_names_the_file_and_line(tmp_path: Path, monkeypatch):
    env = tmp_path / ".env"
    env.write_bytes(b"# settings\nLMSBRIDGE_LMS_CLIENT_ID=caf\xe9\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert str(err.value) == (
        f"{env}: line 2 is not utf-8 (byte 0xe9 at column 28); save the file as utf-8"
    )
    assert exit_code_for(err.value) == ExitCode.BAD_CONFIG


def test_an_explicit_env_file_is_named_too(tmp_path: Path):
    env = tmp_path / "prod.env"
    env.write_bytes(b"\xff\xfeL\x00")
    with pytest.raises(ConfigurationError, match=r"prod\.env: line 1 is not utf-8"):
        Settings(_env_file=env)


def test_csv_field_cap_has_a_default_and_bounds(monkeypatch):
    assert load_settings(_env_file=None).csv_max_field_bytes == 1024 * 1024
    monkeypatch.setenv("LMSBRIDGE_CSV_MAX_FIELD_BYTES", "12")
    with pytest.raises(ValidationError) as err:
        load_settings(_env_file=None)
    assert _cli_names(err.value) == ["LMSBRIDGE_CSV_MAX_FIELD_BYTES"]


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("LMSBRIDGE_HTTP_RETRY_BUDGET_S", "inf"),
        ("LMSBRIDGE_HTTP_RETRY_BUDGET_S", "nan"),
        ("LMSBRIDGE_LMS_RATE_WINDOW_S", "inf"),
        ("LMSBRIDGE_AS_OF", "99999999999999"),
    ],
)
def test_values_that_parse_but_cannot_be_meant_are_refused(
    env: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)
    assert [e["loc"][0] for e in info.value.errors()] == [env.removeprefix("LMSBRIDGE_").lower()]


def test_timeline_settings_are_optional_and_the_developer_key_is_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LMSBRIDGE_HUBSPOT_APP_ID", "LMSBRIDGE_HUBSPOT_DEVELOPER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert not load_settings(_env_file=None).timeline_enabled
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_APP_ID", "")
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_DEVELOPER_API_KEY", "  \n")
    blank = load_settings(_env_file=None)
    assert blank.hubspot_app_id is None and blank.hubspot_developer_api_key is None
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_APP_ID", "424242")
    assert not load_settings(_env_file=None).timeline_enabled
    monkeypatch.setenv("LMSBRIDGE_HUBSPOT_DEVELOPER_API_KEY", " dev-key-canary-1234 \n")
    settings = load_settings(_env_file=None)
    assert settings.timeline_enabled and settings.hubspot_app_id == 424242
    assert "dev-key-canary-1234" in settings.secrets()
    assert "dev-key-canary-1234" not in repr(settings)
