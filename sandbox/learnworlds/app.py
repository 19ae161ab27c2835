"""The app factory: API routers, error shapes, rate limit and the control plane."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from sandbox.control import install_control
from sandbox.learnworlds.config import API_PREFIX, LearnWorldsConfig
from sandbox.learnworlds.context import Emulator
from sandbox.learnworlds.control_hooks import control_hooks
from sandbox.learnworlds.errors import install_error_handlers
from sandbox.learnworlds.loader import load_into
from sandbox.learnworlds.ratelimit import RateLimitMiddleware
from sandbox.learnworlds.routes import auth, certificates, courses, event_logs, payments, users
from sandbox.learnworlds.store import Store


def create_app(config: LearnWorldsConfig | None = None) -> FastAPI:
    emulator = Emulator.from_config(config or LearnWorldsConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        emulator.webhooks.stop()

    app = FastAPI(title="LearnWorlds API v2 emulator", lifespan=lifespan)
    app.state.lw = emulator
    install_error_handlers(app)
    for module in (auth, users, courses, payments, certificates, event_logs):
        app.include_router(module.router)
    # Added before the control middleware so that one stays outermost: it must count the
    # limiter's 429s and apply chaos before the limiter sees the call.
    app.add_middleware(RateLimitMiddleware, limiter=emulator.limiter, prefix=API_PREFIX)
    install_control(app, control_hooks(emulator))
    return app


def load_dataset(app: FastAPI, path: Path) -> dict[str, int]:
    """Replace the app's school with a generated dataset (docs/contracts.md section 1)."""
    emulator: Emulator = app.state.lw
    fresh = Store()
    counts = load_into(fresh, Path(path))
    with emulator.lock:
        emulator.store = fresh
    return counts
