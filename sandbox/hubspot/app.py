"""The FastAPI app factory for the HubSpot emulator."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from sandbox.control import install_control

from .config import HubSpotConfig
from .control_hooks import make_hooks
from .dataset import load_into
from .errors import install_error_handlers
from .gateway import GatewayMiddleware
from .routes import (
    account,
    associations,
    batch,
    objects,
    owners,
    pipelines,
    properties,
    search,
    timeline,
)
from .state import Portal


def create_app(config: HubSpotConfig | None = None) -> FastAPI:
    portal = Portal(config or HubSpotConfig())
    app = FastAPI(title="HubSpot CRM emulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hubspot = portal
    install_error_handlers(app)
    # Order matters: search and batch paths must win over /{object_id}.
    app.include_router(search.router)
    app.include_router(batch.router)
    app.include_router(objects.router)
    app.include_router(properties.router)
    app.include_router(associations.router)
    app.include_router(owners.router)
    app.include_router(pipelines.router)
    app.include_router(account.router)
    app.include_router(timeline.templates)
    app.include_router(timeline.events)
    # Added before install_control so the control middleware wraps it and counts its 401/429s.
    app.add_middleware(GatewayMiddleware)
    install_control(app, make_hooks(portal))
    return app


def load_dataset(app: FastAPI, path: Path) -> dict[str, int]:
    """Replace the emulator's state with a generated dataset; return counts per file."""
    counts = load_into(app.state.hubspot, Path(path))
    app.state.hubspot.limiter.reset()
    return counts
