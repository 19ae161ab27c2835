"""The per-app emulator state that route handlers reach through `request.app.state.lw`."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field

from fastapi import Request

from sandbox.learnworlds.config import LearnWorldsConfig, SignupRules
from sandbox.learnworlds.errors import CLIENT_NOT_FOUND, LearnWorldsError
from sandbox.learnworlds.ratelimit import SlidingWindowLimiter
from sandbox.learnworlds.store import Store
from sandbox.learnworlds.tokens import TokenStore
from sandbox.learnworlds.webhooks import WebhookDispatcher


@dataclass
class Emulator:
    config: LearnWorldsConfig
    tokens: TokenStore
    limiter: SlidingWindowLimiter
    webhooks: WebhookDispatcher
    store: Store = field(default_factory=Store)
    # The sign-up validation rules in force; `/_sandbox/signup-rules` swaps them at runtime.
    signup_rules: SignupRules = field(default_factory=SignupRules)
    # Control routes run in FastAPI's thread pool while API routes run on the event loop;
    # this lock keeps a running activity generation or load from racing the readers.
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def from_config(cls, config: LearnWorldsConfig) -> Emulator:
        return cls(
            config=config,
            tokens=TokenStore(config.token_ttl_s),
            limiter=SlidingWindowLimiter(config.rate_max, config.rate_interval_s),
            webhooks=WebhookDispatcher(
                config.webhook_url,
                config.webhook_secret,
                config.school_id,
                config.webhook_retries,
                config.webhook_timeout_s,
            ),
            signup_rules=config.signup_rules,
        )

    def known_client(self, client_id: str | None) -> bool:
        return bool(client_id) and secrets.compare_digest(
            str(client_id).encode(), self.config.client_id.encode()
        )


def get_emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.lw
    return emulator


async def require_auth(request: Request) -> None:
    """Data calls need the school's `Lw-Client` and a live bearer token minted for it."""
    emulator = get_emulator(request)
    client_id = request.headers.get("lw-client")
    if not emulator.known_client(client_id):
        raise LearnWorldsError(400, CLIENT_NOT_FOUND, "client_id")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LearnWorldsError(401, "Missing access token.")
    if not emulator.tokens.valid(token.strip(), str(client_id)):
        raise LearnWorldsError(401, "The access token is invalid or has expired.")
