"""Shared plumbing for lmsbridge: settings, HTTP pacing/retry, logging with secret redaction.

Imports nothing else of ours, so every package may depend on it.
"""

from lmsbridge_core.settings import Settings, load_settings

__all__ = ["Settings", "load_settings"]
