"""Runtime configuration: one typed object, read from env or a `.env` outside git."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every `LMSBRIDGE_*` setting. Names are a public contract (see DESIGN.md)."""

    model_config = SettingsConfigDict(
        env_prefix="LMSBRIDGE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    hubspot_base_url: AnyHttpUrl = Field(default=AnyHttpUrl("https://api.hubapi.com"))
    hubspot_access_token: SecretStr | None = None
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
    failure_webhook_url: AnyHttpUrl | None = None
    # LearnWorlds documents 30 requests / 10 s per school; one slot of headroom absorbs skew.
    lms_rate_calls: int = Field(default=29, ge=1)
    lms_rate_window_s: float = Field(default=10.0, gt=0)
    # How long one API call may keep retrying 429/5xx/timeouts before the step gives up.
    http_retry_budget_s: float = Field(default=180.0, ge=0)

    @field_validator("as_of")
    @classmethod
    def _as_of_is_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def published_warehouse_path(self) -> Path:
        """Read-only BI snapshot, swapped in atomically after each good build."""
        if self.published_path is not None:
            return self.published_path
        return self.warehouse_path.parent / "published" / self.warehouse_path.name

    @property
    def landing_dir(self) -> Path:
        """Where the webhook receiver appends events for the next LMS extract."""
        if self.webhook_landing_dir is not None:
            return self.webhook_landing_dir
        return self.warehouse_path.parent / "webhooks"

    def secrets(self) -> list[str]:
        """Secret values currently set, for redaction filters."""
        values = [self.hubspot_access_token, self.lms_client_secret, self.lms_webhook_secret]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def load_settings(**overrides: object) -> Settings:
    """Build settings from env/.env, with explicit overrides (CLI flags, tests)."""
    return Settings(**overrides)  # type: ignore[arg-type]
