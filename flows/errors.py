"""What a failure means for the caller: retry it, or which exit code a script should see."""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import IntEnum

import httpx
import requests
from pydantic import ValidationError

from lmsbridge_core.http import DailyLimitExceeded, HttpError, RetriesExhausted, TransientHttpError

_CONNECT_MARKERS = ("ConnectError", "ConnectTimeout")
# Extract and sync errors carry the HTTP status in their (secret-free) message text.
_AUTH_STATUS = re.compile(r"\bHTTP (401|403)\b")


class ExitCode(IntEnum):
    """Exit codes of `lmsbridge`; scripts rely on these numbers."""

    OK = 0
    RUN_FAILED = 1
    BAD_CONFIG = 2
    AUTH_FAILED = 3
    UNREACHABLE = 4


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the setting."""


class DbtBuildFailed(Exception):
    """dbt reported an error or a failed test; reverse ETL must not run on these marts."""


class SyncFailed(Exception):
    """At least one reverse-ETL sync stopped with an error (the others still ran)."""


class RunSkipped(Exception):
    """Another run holds the lmsbridge-sync slot and this one was asked not to wait."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    # Extract and sync code wrap library errors; the useful one may be a cause or context.
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status_code(exc: BaseException) -> int | None:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code
    for attr in ("status_code", "status"):
        code = getattr(exc, attr, None)
        if isinstance(code, int):
            return code
    return None


def is_auth_failure(exc: BaseException) -> bool:
    """401/403 from an API, or an error type that says it is about authentication."""
    for err in _chain(exc):
        if _status_code(err) in (401, 403) or _AUTH_STATUS.search(str(err)):
            return True
        name = type(err).__name__.lower()
        if "auth" in name and ("error" in name or "fail" in name):
            return True
    return False


def is_unreachable(exc: BaseException) -> bool:
    """The API host could not be reached at all (DNS, refused connection, connect timeout)."""
    for err in _chain(exc):
        if isinstance(
            err,
            httpx.ConnectError
            | httpx.ConnectTimeout
            | ConnectionRefusedError
            | requests.exceptions.ConnectionError,
        ):
            return True
        # lmsbridge_core.http re-raises transport errors by name only (no chained cause),
        # and sync results carry that text on.
        if isinstance(err, HttpError | SyncFailed) and any(m in str(err) for m in _CONNECT_MARKERS):
            return True
    return False


def is_transient(exc: BaseException) -> bool:
    """Worth retrying the whole task: timeouts, 429 and 5xx. Never auth or bad data."""
    if is_auth_failure(exc):
        return False
    if is_unreachable(exc):
        # Nothing is listening: a task-level retry minutes later rarely helps; fail fast.
        return False
    for err in _chain(exc):
        if isinstance(err, DailyLimitExceeded):
            return False
        if isinstance(err, TransientHttpError | RetriesExhausted):
            return True
        if isinstance(err, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError):
            return True
        code = _status_code(err)
        if code is not None and (code == 429 or code >= 500):
            return True
        if getattr(err, "transient", False) is True:
            return True
    return False


def exit_code_for(exc: BaseException) -> ExitCode:
    """Map a failure to the documented exit code."""
    if any(
        isinstance(err, ConfigError | ValidationError) or type(err).__name__.endswith("ConfigError")
        for err in _chain(exc)
    ):
        return ExitCode.BAD_CONFIG
    if is_auth_failure(exc):
        return ExitCode.AUTH_FAILED
    if is_unreachable(exc):
        return ExitCode.UNREACHABLE
    return ExitCode.RUN_FAILED
