import base64
import io
import json
import logging
from urllib.parse import quote, quote_plus

import pytest

from lmsbridge_core.pacing import RollingWindowLimiter
from lmsbridge_core.redaction import install_redaction, redact


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_limiter_never_exceeds_max_calls_in_any_window() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(5, 10.0, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(23):
        limiter.acquire()
        starts.append(clock.now)
    for i, t in enumerate(starts):
        in_window = [s for s in starts[i:] if s - t < 10.0]
        assert len(in_window) <= 5
    # 23 calls at 5 per 10 s need 4 full windows of waiting, no more.
    assert clock.now == 40.0


def test_penalize_pauses_all_callers() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(100, 10.0, clock=clock, sleep=clock.sleep)
    limiter.penalize(3.0)
    assert limiter.acquire() == 3.0


def test_observe_remaining_adopts_the_servers_lower_count() -> None:
    clock = FakeClock()
    limiter = RollingWindowLimiter(10, 10.0, clock=clock, sleep=clock.sleep)
    limiter.observe_remaining(1)
    limiter.acquire()
    assert clock.now == 0.0
    limiter.acquire()
    assert clock.now == 10.0


def test_redact_masks_known_secrets_and_token_shapes() -> None:
    text = "token pat-na1-11111111-2222-3333 and Bearer abcdefghijkl and s3cr3t-value"
    cleaned = redact(text, ["s3cr3t-value"])
    assert "pat-na1-11111111" not in cleaned
    assert "abcdefghijkl" not in cleaned
    assert "s3cr3t-value" not in cleaned
    assert cleaned.count("***") == 3


def test_installed_filter_scrubs_log_records(caplog) -> None:
    install_redaction(["canary-secret-123"])
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.lib").info("calling with %s", "canary-secret-123")
    assert "canary-secret-123" not in caplog.text
    assert "***" in caplog.text


AWKWARD = 'cnry-redact-first\ncnry-redact-"second"\\cnry-redact-third'


@pytest.mark.parametrize(
    "shown",
    [
        AWKWARD,
        json.dumps({"client_secret": AWKWARD}),
        repr(AWKWARD),
        repr(f"Bearer {AWKWARD}".encode()),  # http.client / h11: "Invalid header value b'...'"
        quote(AWKWARD, safe=""),
        quote_plus(AWKWARD),
        base64.b64encode(AWKWARD.encode()).decode(),
        # Basic auth: the secret sits at every byte alignment after some client id.
        *(base64.b64encode(f"{cid}:{AWKWARD}".encode()).decode() for cid in ("a", "ab", "abc")),
        AWKWARD.splitlines()[0],  # a message that kept only the first line
    ],
)
def test_redact_masks_every_encoding_of_a_secret(shown: str) -> None:
    cleaned = redact(f"before {shown} after", [AWKWARD])
    for fragment in ("cnry-redact-first", "cnry-redact-", "second", "third"):
        assert fragment not in cleaned or (fragment == "second" and "cnry" not in cleaned)
    assert "cnry-redact" not in cleaned
    assert cleaned.startswith("before ") and cleaned.endswith(" after")


def test_redact_leaves_ordinary_text_alone() -> None:
    text = 'HubSpot refused POST /crm/v3/objects/contacts: HTTP 401 "INVALID_AUTHENTICATION"'
    assert redact(text, [AWKWARD, "short"]) == text.replace("short", "***")


def test_log_record_tracebacks_are_scrubbed() -> None:
    # Our own handler on a non-propagating logger: handlers other suites leave on the root
    # logger (Prefect's console handler) must not decide what this test sees.
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("lmsbridge.test.scrub")
    logger.addHandler(handler)
    logger.propagate = False
    install_redaction([AWKWARD])
    try:
        try:
            raise ValueError(f"Invalid header value {f'Bearer {AWKWARD}'.encode()!r}")
        except ValueError:
            logger.exception("request failed")
    finally:
        install_redaction([])
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "cnry-redact" not in text
    assert "request failed" in text and "ValueError: Invalid header value" in text
