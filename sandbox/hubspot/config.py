"""Settings of one emulated HubSpot portal."""

from __future__ import annotations

from pydantic import BaseModel, Field

# The one public app the sandbox knows by default, and its developer account's API key.
SANDBOX_APP_ID = 424242
SANDBOX_DEVELOPER_KEY = "sandbox-developer-hapikey-0000"


class HubSpotConfig(BaseModel):
    rate_max: int = Field(100, ge=1)  # burst limit per token, per rolling interval
    rate_interval_ms: int = Field(10_000, ge=1)
    daily_limit: int = Field(250_000, ge=1)
    search_rate_per_s: int = Field(5, ge=1)
    tokens: list[str] | None = None  # None: any non-empty bearer is accepted
    scopes: list[str] | None = None  # None: every scope granted
    portal_id: int = 12345678
    # New and updated records reach search this long after the write (HubSpot: "a few
    # seconds", reference section 3); get, list and batch read see them at once.
    search_index_lag_ms: int = Field(2_000, ge=0)
    # Past about this many characters HubSpot's edge answers 414 before the API sees the call:
    # 12,000-character property lists work, ~900 deal properties (~18,000) do not
    # (reference section 10, "URL length").
    max_url_chars: int = Field(16_384, ge=256)
    # Timeline events (reference section 7). Templates belong to a public app and are managed
    # with its developer account's `hapikey` query parameter: app id -> developer API key.
    timeline_apps: dict[int, str] = Field(
        default_factory=lambda: {SANDBOX_APP_ID: SANDBOX_DEVELOPER_KEY}
    )
    # Events are sent with the app's OAuth bearer token. Private-app tokens ("pat-..." is how
    # HubSpot spells them, section 1) get 403: "Private apps do not support custom timeline
    # events". Other bearer tokens count as OAuth tokens of every app in `timeline_apps`.
    private_app_token_prefixes: list[str] = Field(default_factory=lambda: ["pat-"])
    private_app_tokens: list[str] = Field(default_factory=list)
