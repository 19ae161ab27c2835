"""Settings of one emulated HubSpot portal."""

from __future__ import annotations

from pydantic import BaseModel, Field


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
