"""Settings of one emulated LearnWorlds school."""

from __future__ import annotations

from pydantic import BaseModel, Field

# Every API route lives under the school host's /admin/api (reference notes section 1).
API_PREFIX = "/admin/api"


class LearnWorldsConfig(BaseModel):
    """Credentials, limits and webhook target of the emulated school.

    Defaults are the sandbox credentials from docs/contracts.md section 2; the limits are the
    real API's (30 requests per 10 s, tokens valid 8000 s).
    """

    client_id: str = "sandbox-client"
    client_secret: str = "sandbox-secret"
    token_ttl_s: float = Field(default=8000, ge=0)
    rate_max: int = Field(default=30, ge=1)
    rate_interval_s: float = Field(default=10, gt=0)
    webhook_url: str | None = None
    webhook_secret: str = "sandbox-webhook-secret"
    # A school id is a 24-hex ObjectId like every other LearnWorlds id.
    school_id: str = "60004a6de11ac0798538ccc2"
    webhook_retries: int = Field(default=3, ge=0)
    webhook_timeout_s: float = Field(default=5, gt=0)
