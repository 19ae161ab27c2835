"""Keep secrets out of logs and error text.

Tokens come from settings as SecretStr, but libraries (HTTP clients, dlt, dbt) may still echo
headers, bodies or URLs, and they rarely echo a value verbatim: `http.client` shows a header
as a bytes repr, JSON bodies escape quotes and backslashes, query strings percent-encode and
basic auth base64-encodes. Every known secret is therefore masked in each of those shapes,
and every log record is scrubbed, traceback included, as it is created.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import traceback
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "***"
# HubSpot private-app tokens and bearer headers, even ones we were never told about.
_TOKEN_PATTERNS = (
    re.compile(r"pat-[a-z]{2}\d-[0-9a-zA-Z-]{8,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
)
# A piece this long between characters that escaping rewrites (quote, backslash, newline)
# is still secret material when a message shows only part of the value, e.g. one line of it.
_MIN_FRAGMENT = 8
_ESCAPED = re.compile(r"[\x00-\x20\"'\\%+&=:;,/?#\x7f-\U0010ffff]+")


def _base64_cores(raw: bytes) -> set[str]:
    """Base64 text that appears wherever `raw` is encoded inside a longer value
    (`client_id:secret` in a basic-auth header), at each of the three byte alignments."""
    cores: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode()
        start = 4 if shift else 0
        end = (shift + len(raw)) // 3 * 4
        core = encoded[start:end]
        if len(core) >= _MIN_FRAGMENT:
            cores |= {core, core.replace("+", "-").replace("/", "_")}
    whole = base64.b64encode(raw).decode()
    cores |= {whole, whole.rstrip("="), base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return cores


@lru_cache(maxsize=64)
def secret_forms(secret: str) -> tuple[str, ...]:
    """Every text shape `secret` may take in a message, longest first."""
    raw = secret.encode()
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        repr(raw)[2:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        *_base64_cores(raw),
    }
    forms |= {part for part in _ESCAPED.split(secret) if len(part) >= _MIN_FRAGMENT}
    return tuple(sorted((f for f in forms if f), key=len, reverse=True))


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace every known secret, in any of its encodings, and anything shaped like a token."""
    forms = sorted({f for s in secrets if s for f in secret_forms(s)}, key=len, reverse=True)
    for form in forms:
        text = text.replace(form, MASK)
    text = _TOKEN_PATTERNS[0].sub(MASK, text)
    return _TOKEN_PATTERNS[1].sub(lambda m: m.group(1) + MASK, text)


def _scrub(record: logging.LogRecord, secrets: list[str]) -> None:
    message = record.getMessage()
    cleaned = redact(message, secrets)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    # Handlers format tracebacks themselves, after us; pin a scrubbed copy instead, and drop
    # the live exception so no handler renders its text (or a frame's locals) on its own.
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)), secrets)
        record.exc_text = record.exc_text.rstrip("\n")
        record.exc_info = None
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)


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


def installed_secrets() -> list[str]:
    """The secrets the running process redacts (for code that writes text to disk itself)."""
    return list(_installed)
