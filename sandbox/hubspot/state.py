"""Everything one emulated portal holds, hung on `app.state.hubspot`."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from .config import HubSpotConfig
from .propdefs import PropertyRegistry
from .ratelimit import RateLimiter
from .store import Store
from .timeline import TimelineState


@dataclass
class Portal:
    config: HubSpotConfig
    registry: PropertyRegistry = field(default_factory=PropertyRegistry)
    store: Store = field(init=False)
    limiter: RateLimiter = field(init=False)
    tokens: list[str] | None = None
    scopes: set[str] | None = None
    timeline: TimelineState = field(default_factory=TimelineState)

    def __post_init__(self) -> None:
        self.store = Store(self.registry)
        self.store.index_lag_ms = self.config.search_index_lag_ms
        # One lock for records and definitions: validation reads definitions mid-write.
        self.registry.lock = self.store.lock
        cfg = self.config
        self.limiter = RateLimiter(
            cfg.rate_max, cfg.rate_interval_ms, cfg.daily_limit, cfg.search_rate_per_s
        )
        self.tokens = list(cfg.tokens) if cfg.tokens is not None else None
        self.scopes = set(cfg.scopes) if cfg.scopes is not None else None

    def reset(self) -> None:
        with self.store.lock:
            self.store.clear()
            self.registry.reset()
            self.timeline.clear()
        self.limiter.reset()


def portal(request: Request) -> Portal:
    return request.app.state.hubspot
