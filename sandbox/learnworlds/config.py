"""Settings of one emulated LearnWorlds school."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Every API route lives under the school host's /admin/api (reference notes section 1).
API_PREFIX = "/admin/api"

# Profile fields that hold a link (the spec describes each as "User ... URL").
URL_FIELDS = (
    "url",
    "fb",
    "twitter",
    "instagram",
    "linkedin",
    "skype",
    "behance",
    "dribbble",
    "github",
)


class SignupRules(BaseModel):
    """The school's sign-up validation rules, applied when a write sends
    `signup_validation_rules: true`.

    Guess: the real rules are whatever the school configured in its sign-up form and are not
    published; these defaults are plausible stand-ins (phone looks like a phone number, links
    are http(s) URLs, dates are YYYY-MM-DD, nothing longer than 255 characters).
    """

    model_config = ConfigDict(extra="forbid")

    phone_fields: tuple[str, ...] = ("phone",)
    phone_min_digits: int = Field(default=6, ge=0)
    phone_max_digits: int = Field(default=20, ge=1)
    url_fields: tuple[str, ...] = URL_FIELDS
    date_fields: tuple[str, ...] = ("birthday", "graduation_year")
    max_length: int = Field(default=255, ge=1)
    # Field keys (custom `cf_*` or standard) that must be non-empty after the write.
    required_fields: tuple[str, ...] = ()


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
    signup_rules: SignupRules = Field(default_factory=SignupRules)
    # What `send_registration_email: null` (or absent) on POST /v2/users means. Guess: the
    # spec only says true sends and false does not; we take null as the school's usual
    # sign-up behaviour, which sends the welcome email.
    registration_email_default: bool = True
