"""Runtime configuration: one typed object, read from env or a `.env` outside git.

Everything is validated when the object is built, so a bad value stops a command before any
work with a message naming the variable (field errors carry the field as their location,
which the CLI prints as `LMSBRIDGE_<FIELD>`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from croniter import CroniterBadDateError, croniter
from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from lmsbridge_core.errors import ConfigurationError

MIB = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _pasted_credential(value: object) -> object:
    """A credential as pasted: surrounding whitespace dropped, blank = unset, a control
    character inside refused (the value is never echoed: it is a credential)."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(raw, str):
        return value
    stripped = raw.strip()
    if _CONTROL.search(stripped):
        raise ValueError("contains a control character (a line break?); copy it again")
    return stripped or None


class Settings(BaseSettings):
    """Every `LMSBRIDGE_*` setting. Names are a public contract (see DESIGN.md)."""

    model_config = SettingsConfigDict(
        env_prefix="LMSBRIDGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # Error text must never quote a value: some are credentials.
        hide_input_in_errors=True,
    )

    hubspot_base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.hubapi.com"))
    hubspot_access_token: SecretStr | None = None

    # --- Timeline events (optional; reverse_etl/timeline.py) ------------------------------
    # With both set, LMS activity is also sent as timeline events of this public app: the
    # developer account's API key manages the app's event templates (HubSpot takes it as the
    # `hapikey` query parameter), the events go with LMSBRIDGE_HUBSPOT_ACCESS_TOKEN, which must
    # then be the app's OAuth token (private apps cannot send timeline events).
    hubspot_app_id: int | None = Field(default=None, ge=1)
    hubspot_developer_api_key: SecretStr | None = None

    @field_validator("hubspot_app_id", mode="before")
    @classmethod
    def _blank_app_id(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("hubspot_developer_api_key", mode="before")
    @classmethod
    def _query_safe_key(cls, value: object) -> object:
        """Blank means unset; a pasted key's surrounding whitespace is dropped. Never echoed."""
        return _pasted_credential(value)

    @property
    def timeline_enabled(self) -> bool:
        key = self.hubspot_developer_api_key
        return self.hubspot_app_id is not None and key is not None and bool(key.get_secret_value())

    # --- end of timeline events ------------------------------------------------------------
    lms_base_url: AnyHttpUrl | None = None
    lms_client_id: str | None = None
    lms_client_secret: SecretStr | None = None
    lms_webhook_secret: SecretStr | None = None
    warehouse_path: Path = Path("warehouse/lmsbridge.duckdb")
    published_path: Path | None = None
    lms_csv_dir: Path | None = None
    webhook_landing_dir: Path | None = None
    as_of: datetime | None = None
    sync_config_path: Path = Path("reverse_etl/syncs.yml")
    dbt_project_dir: Path = Path(__file__).resolve().parent.parent / "dbt_project"
    schedule_cron: str = "*/15 * * * *"
    # A scheduled run whose dbt inputs (raw tables, project files, the variables the project
    # reads) equal the last successful build's skips the build (flows/build_inputs.py). With
    # LMSBRIDGE_AS_OF unset the clock still moves, so a build is reused for at most this many
    # minutes: time-based rules (attribution lookbacks, task age) move at most that late.
    # 0 builds every run.
    build_reuse_minutes: float = Field(default=60.0, ge=0, le=7 * 24 * 60, allow_inf_nan=False)
    # Under a Prefect flow run, one Prefect task per dbt node (prefect-dbt) instead of one
    # task for the whole build: per-node visibility at ~0.2 s of server bookkeeping per node.
    prefect_dbt_node_tasks: bool = False
    # `lmsbridge serve` also runs `verify` on this cron (e.g. "0 6 * * *"); None: never.
    verify_cron: str | None = None
    failure_webhook_url: AnyHttpUrl | None = None
    # LearnWorlds documents 30 requests / 10 s per school; one slot of headroom absorbs skew.
    lms_rate_calls: int = Field(default=29, ge=1)
    lms_rate_window_s: float = Field(default=10.0, gt=0, le=3600, allow_inf_nan=False)
    # LearnWorlds has no "modified since": every learner's profile is re-read this often
    # (hours; 0 = never, rely on userUpdated webhooks) so profile edits reach the two-way sync.
    lms_profile_sweep_hours: float = Field(default=24.0, ge=0, le=24 * 365, allow_inf_nan=False)
    # How long one API call may keep retrying 429/5xx/timeouts before the step gives up.
    http_retry_budget_s: float = Field(default=180.0, ge=0, le=86_400, allow_inf_nan=False)
    # A history-CSV field (and so a row) larger than this is rejected on its own; the file's
    # other rows still land.
    csv_max_field_bytes: int = Field(default=MIB, ge=1024, le=256 * MIB)
    # The BI snapshot holds the marts and the sync run history; true adds the raw_*, staging
    # and intermediate layers and the two-way views rev_etl__learner_fields and
    # rev_etl__contact_properties (never dlt's `_dlt_*` tables or `*_staging` schemas).
    publish_raw: bool = False
    # --- the warehouse engine (docs/spark.md) -----------------------------------------------
    # duckdb: dbt builds in the warehouse file. spark: raw tables are also written as Parquet
    # under the lake dir, dbt builds them on Spark (target `spark` of profiles.yml), and the
    # marts come back into the warehouse file, where the reverse ETL and BI read them.
    engine: Literal["duckdb", "spark"] = "duckdb"
    # Spark's metastore, built tables and the raw lake; default <warehouse dir>/spark.
    spark_dir: Path | None = None
    # A local session's master, e.g. local[4]; the session method of profiles.yml.
    spark_master: str = "local[*]"
    spark_driver_memory: str = Field(default="2g", pattern=r"^\d+[kmgt]?$")
    # Table format of the built tables. delta (MERGE, DELETE) makes builds incremental; it needs
    # the Delta jars on the session (LMSBRIDGE_SPARK_PACKAGES). parquet rebuilds every table
    # each run (a full refresh), which also starts the memory models over (docs/spark.md).
    spark_file_format: Literal["delta", "parquet"] = "parquet"
    # Maven coordinates for spark.jars.packages, e.g. io.delta:delta-spark_2.13:4.0.0.
    spark_packages: str | None = None

    def __init__(self, **values: Any) -> None:
        files = values.get("_env_file", type(self).model_config.get("env_file"))
        encoding = str(
            values.get("_env_file_encoding")
            or type(self).model_config.get("env_file_encoding")
            or "utf-8"
        )
        # python-dotenv skips a line it cannot parse (a stray quote) with a warning, so the
        # setting silently keeps its default; refuse the file instead, naming the line.
        _check_env_file_syntax(files, encoding)
        # pydantic-settings reads the .env file before validation and lets a decode error
        # escape as a bare traceback; say which file and line instead.
        try:
            super().__init__(**values)
        except UnicodeDecodeError:
            raise _env_file_error(files, encoding) from None

    @field_validator("verify_cron", mode="before")
    @classmethod
    def _blank_is_off(cls, value: object) -> object:
        # LMSBRIDGE_VERIFY_CRON= (set but empty) turns the schedule off, as unset does.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("schedule_cron", "verify_cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        fields = value.split()
        if not value.startswith("@") and len(fields) != 5:
            raise ValueError(
                f"{value!r} has {len(fields)} fields; want 5 (minute hour day month weekday),"
                " e.g. '*/15 * * * *'"
            )
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron expression")
        try:
            croniter(value, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
        except CroniterBadDateError:
            raise ValueError(f"{value!r} never matches a date") from None
        return value

    @field_validator("hubspot_access_token", "lms_webhook_secret", "lms_client_id", mode="before")
    @classmethod
    def _header_safe(cls, value: object) -> object:
        """These travel in (or are compared with) HTTP headers: a pasted token often carries
        a trailing newline, which is dropped; a control character inside cannot be sent, and
        the HTTP library's error would quote the whole header, secret included."""
        return _pasted_credential(value)

    @field_validator("as_of")
    @classmethod
    def _as_of_is_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # A build dated years ahead is a typo (or a number read as epoch seconds), and it would
        # count every event as inside every attribution window.
        if value.year > datetime.now(UTC).year + 1:
            raise ValueError("is more than a year in the future; use an ISO timestamp")
        return value

    @property
    def published_warehouse_path(self) -> Path:
        """Read-only BI snapshot, swapped in atomically after each good build."""
        if self.published_path is not None:
            return self.published_path
        return self.warehouse_path.parent / "published" / self.warehouse_path.name

    @property
    def spark_home(self) -> Path:
        """The Spark engine's own directory: metastore, built tables, raw lake."""
        if self.spark_dir is not None:
            return self.spark_dir
        return self.warehouse_path.parent / "spark"

    @property
    def landing_dir(self) -> Path:
        """Where the webhook receiver appends events for the next LMS extract."""
        if self.webhook_landing_dir is not None:
            return self.webhook_landing_dir
        return self.warehouse_path.parent / "webhooks"

    # --- what each part needs, checked in one place; messages name the variable ----------

    def require_hubspot_token(self) -> str:
        token = self.hubspot_access_token
        if token is None or not token.get_secret_value():
            raise ConfigurationError("LMSBRIDGE_HUBSPOT_ACCESS_TOKEN is not set")
        return token.get_secret_value()

    def require_lms_api(self) -> tuple[str, str, str]:
        """(base URL, client id, client secret) of the LearnWorlds API."""
        if self.lms_base_url is None:
            raise ConfigurationError("LMSBRIDGE_LMS_BASE_URL is not set")
        secret = self.lms_client_secret.get_secret_value() if self.lms_client_secret else ""
        if not (self.lms_client_id and secret):
            raise ConfigurationError(
                "LMSBRIDGE_LMS_BASE_URL is set but LMSBRIDGE_LMS_CLIENT_ID / "
                "LMSBRIDGE_LMS_CLIENT_SECRET are not"
            )
        return str(self.lms_base_url).rstrip("/"), self.lms_client_id, secret

    def require_csv_dir(self) -> Path:
        if self.lms_csv_dir is None:
            raise ConfigurationError("LMSBRIDGE_LMS_CSV_DIR is not set")
        if not self.lms_csv_dir.is_dir():
            raise ConfigurationError(f"LMSBRIDGE_LMS_CSV_DIR={self.lms_csv_dir} is not a folder")
        return self.lms_csv_dir

    def require_webhook_secret(self) -> str:
        secret = self.lms_webhook_secret
        if secret is None or not secret.get_secret_value():
            raise ConfigurationError("LMSBRIDGE_LMS_WEBHOOK_SECRET is not set")
        return secret.get_secret_value()

    def secrets(self) -> list[str]:
        """Secret values currently set, for redaction filters."""
        values = [
            self.hubspot_access_token,
            self.lms_client_secret,
            self.lms_webhook_secret,
            self.hubspot_developer_api_key,
        ]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def _env_paths(files: object) -> list[Path]:
    candidates: Sequence[object] = files if isinstance(files, list | tuple) else [files]
    return [Path(str(f)).expanduser().absolute() for f in candidates if f is not None]


def _check_env_file_syntax(files: object, encoding: str) -> None:
    from dotenv.parser import parse_stream

    for path in _env_paths(files):
        try:
            text = path.read_text(encoding=encoding)
        except (OSError, UnicodeDecodeError):
            continue  # absent is fine; undecodable is reported by _env_file_error
        for binding in parse_stream(io.StringIO(text)):
            if binding.error:
                # The line's text is not echoed: it may hold a secret.
                raise ConfigurationError(
                    f"{path}: line {binding.original.line} is not KEY=value (an unclosed"
                    " quote, or text without '='); fix or remove it"
                )


def _env_file_error(files: object, encoding: str) -> ConfigurationError:
    for path in _env_paths(files):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for number, line in enumerate(data.splitlines(keepends=True), 1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as exc:
                return ConfigurationError(
                    f"{path}: line {number} is not {encoding} (byte 0x{line[exc.start]:02x}"
                    f" at column {exc.start + 1}); save the file as {encoding}"
                )
        try:
            data.decode(encoding)
        except UnicodeDecodeError as exc:
            return ConfigurationError(f"{path} is not {encoding} (at byte {exc.start})")
    return ConfigurationError(f"a .env file is not {encoding}")


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env, with explicit overrides (CLI flags, tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
