"""One error model for every part of lmsbridge.

Clients (extract, reverse ETL, the coming LMS writes) raise these types and nothing else for
the failures a caller must tell apart; the CLI maps each type to the exit code the README
promises, and the orchestrator retries a task only when the error says it is worth it.
Messages are written for operators and never hold a credential.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """Exit codes of `lmsbridge`; scripts rely on these numbers (README, "Commands")."""

    OK = 0
    RUN_FAILED = 1
    BAD_CONFIG = 2
    AUTH_FAILED = 3
    UNREACHABLE = 4
    DRIFT_FOUND = 5  # `lmsbridge verify`: HubSpot no longer holds what it confirmed


class LmsbridgeError(Exception):
    """Base of every error we raise on purpose; `str()` is a one-line, secret-free message."""

    exit_code: ClassVar[ExitCode] = ExitCode.RUN_FAILED
    # Worth running the same step again later (the flow's task retry reads this).
    retryable: ClassVar[bool] = False


class ConfigurationError(LmsbridgeError):
    """A setting, flag or config file is missing or invalid; the message names it."""

    exit_code = ExitCode.BAD_CONFIG


class AuthenticationError(LmsbridgeError):
    """The API refused our credentials (401/403, token request denied). No retry fixes it."""

    exit_code = ExitCode.AUTH_FAILED

    def __init__(self, message: str, *, api: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.api = api
        self.status = status


class UnreachableError(LmsbridgeError):
    """The API host could not be reached at all (DNS, refused connection, connect timeout)."""

    exit_code = ExitCode.UNREACHABLE

    def __init__(self, message: str, *, api: str = "") -> None:
        super().__init__(message)
        self.api = api


class TransientError(LmsbridgeError):
    """429, 5xx, timeouts that outlived the in-call retry budget; the same step may succeed later."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        api: str = "",
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.api = api
        self.status = status
        self.retry_after_s = retry_after_s


class QuotaExhaustedError(LmsbridgeError):
    """A daily quota is spent (HubSpot policyName DAILY); retrying before it resets burns calls."""

    def __init__(self, message: str, *, api: str = "") -> None:
        super().__init__(message)
        self.api = api


class ApiResponseError(LmsbridgeError):
    """The API answered with a non-retryable error (400, 404, 409, ...) or a malformed body."""

    def __init__(self, message: str, *, api: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.api = api
        self.status = status


class DataError(LmsbridgeError):
    """Input data a step cannot use as a whole (row-level problems are quarantined instead)."""


class BuildFailed(LmsbridgeError):
    """dbt reported an error or a failed test; reverse ETL must not run on these marts."""


class SyncFailed(LmsbridgeError):
    """At least one reverse-ETL sync stopped with an error (the others still ran).

    Carries the strongest cause among the syncs so the exit code and the retry decision
    follow what actually went wrong (an auth error exits 3, a 503 storm is retried).
    """

    def __init__(self, message: str, *, causes: list[BaseException] | None = None) -> None:
        super().__init__(message)
        self.causes = list(causes or [])


class RunSkipped(LmsbridgeError):
    """Another run holds the lmsbridge-sync slot and this one was asked not to wait."""

    exit_code = ExitCode.OK


def chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes/contexts, each once (libraries wrap ours, e.g. dlt)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        if isinstance(current, SyncFailed) and current.causes:
            yield from (c for c in current.causes if id(c) not in seen)
        current = current.__cause__ or current.__context__


def find(exc: BaseException) -> LmsbridgeError | None:
    """The first error of ours in the chain: the one that says what went wrong."""
    for err in chain(exc):
        if isinstance(err, LmsbridgeError):
            return err
    return None


_PRECEDENCE = (
    ConfigurationError,
    AuthenticationError,
    UnreachableError,
    QuotaExhaustedError,
    TransientError,
)


def classify(exc: BaseException) -> LmsbridgeError | None:
    """The most decisive error of ours anywhere in the chain (config beats auth beats ...)."""
    found = [err for err in chain(exc) if isinstance(err, LmsbridgeError)]
    for kind in _PRECEDENCE:
        for err in found:
            if isinstance(err, kind):
                return err
    return found[0] if found else None


def exit_code_for(exc: BaseException) -> ExitCode:
    """Map any failure to the documented exit code; unknown errors are a failed run."""
    err = classify(exc)
    return err.exit_code if err is not None else ExitCode.RUN_FAILED


def is_retryable(exc: BaseException) -> bool:
    """Retry the whole step only for errors that say so; never config, auth or quota."""
    err = classify(exc)
    return bool(err is not None and err.retryable)
