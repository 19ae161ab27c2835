"""Keep secrets out of logs and error text.

Tokens come from settings as SecretStr, but libraries (HTTP clients, dlt, dbt) may still echo
headers or URLs at debug level; every log record is scrubbed of known secret values and
token-shaped strings as it is created.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "***"
# HubSpot private-app tokens and bearer headers, even ones we were never told about.
_TOKEN_PATTERNS = (
    re.compile(r"pat-[a-z]{2}\d-[0-9a-zA-Z-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret and anything shaped like a bearer token."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _TOKEN_PATTERNS[0].sub(MASK, text)
    return _TOKEN_PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)


def _scrub(record: logging.LogRecord, secrets: list[str]) -> None:
    message = record.getMessage()
    cleaned = redact(message, secrets)
    if cleaned != message:
        record.msg, record.args = cleaned, None


_base_factory = logging.getLogRecordFactory()
_installed: list[str] = []


def install_redaction(secrets: Iterable[str]) -> None:
    """Scrub every log record when it is created, whichever library or handler emits it.

    A record factory rather than handler filters: libraries (Prefect, dbt, dlt) attach their
    own handlers after we start, and those would miss a filter installed earlier.
    """
    _installed[:] = sorted({s for s in secrets if s})

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = _base_factory(*args, **kwargs)  # type: ignore[arg-type]
        _scrub(record, _installed)
        return record

    logging.setLogRecordFactory(factory)
