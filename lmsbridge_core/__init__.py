"""Shared plumbing for lmsbridge: settings, HTTP pacing/retry, logging with secret redaction.

Imports nothing else of ours, so every package may depend on it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmsbridge_core.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]


def __getattr__(name: str) -> Any:
    # Lazy (PEP 562): importing any lmsbridge_core module, e.g. the light `errors` the CLI
    # needs at start-up, must not load pydantic-settings through this package's __init__.
    if name in __all__:
        from lmsbridge_core import settings

        return getattr(settings, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
