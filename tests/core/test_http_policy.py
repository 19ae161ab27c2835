"""The shared HTTP policy (lmsbridge_core.http) with scripted responses and a fake clock.

These pin the policy's decisions (what is retried, how long it waits, when it gives up and
with which error type); the integration tests drive the same policy through the real clients
against the emulators (tests/core/test_http_policy_emulators.py).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import requests

from lmsbridge_core.errors import (
    ConfigurationError,
    ExitCode,
    QuotaExhaustedError,
    TransientError,
    UnreachableError,
    exit_code_for,
    is_retryable,
)
from lmsbridge_core.http import (
    HUBSPOT,
    LEARNWORLDS,
    HttpPolicy,
    Pacer,
    error_message,
    parse_retry_after,
    shared_pacer,
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def scripted(responses: list[httpx.Response | Exception]) -> Callable[[], httpx.Response]:
    queue = list(responses)

    def attempt() -> httpx.Response:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return attempt


def rate_limited(policy_name: str, **headers: str) -> httpx.Response:
    return httpx.Response(
        429,
        headers=headers,
        json={"status": "error", "errorType": "RATE_LIMIT", "policyName": policy_name,
              "message": f"You have reached your {policy_name.lower()} limit."},
    )  # fmt: skip


def make(budget_s: float = 60.0, profile=HUBSPOT) -> tuple[HttpPolicy, FakeTime]:  # type: ignore[no-untyped-def]
    fake = FakeTime()
    return (
        HttpPolicy(
            profile, Pacer(10_000, 1.0), budget_s=budget_s, sleep=fake.sleep, clock=fake.clock
        ),
        fake,
    )


def test_burst_429_and_5xx_are_retried_and_counted() -> None:
    http, fake = make()
    attempt = scripted(
        [rate_limited("TEN_SECONDLY_ROLLING"), httpx.Response(503), httpx.Response(200, json={})]
    )
    assert http.send("GET", "/x", attempt).status_code == 200
    assert (http.counter.calls, http.counter.status_429, http.counter.retries) == (3, 1, 2)
    assert len(fake.sleeps) == 2


def test_a_storm_of_429s_is_outlasted_within_the_budget() -> None:
    # Eight 429s in a row without Retry-After (the README's promise: slower, never failed).
    http, _ = make(budget_s=180.0)
    attempt = scripted([rate_limited("TEN_SECONDLY_ROLLING")] * 8 + [httpx.Response(200)])
    assert http.send("POST", "/crm/v3/objects/contacts/batch/update", attempt).status_code == 200
    assert http.counter.status_429 == 8


def test_daily_limit_stops_at_once_and_is_not_retryable() -> None:
    http, fake = make()
    with pytest.raises(QuotaExhaustedError, match="daily") as info:
        http.send("GET", "/x", scripted([rate_limited("DAILY"), httpx.Response(200)]))
    assert http.counter.calls == 1 and fake.sleeps == []
    assert not is_retryable(info.value) and exit_code_for(info.value) == ExitCode.RUN_FAILED


def test_locked_423_waits_at_least_two_seconds() -> None:
    http, fake = make()
    http.send("POST", "/x", scripted([httpx.Response(423), httpx.Response(200)]))
    assert fake.sleeps and fake.sleeps[0] >= 2.0


def test_retry_after_is_honoured_in_seconds_and_milliseconds() -> None:
    http, fake = make()
    http.send(
        "GET",
        "/x",
        scripted([httpx.Response(503, headers={"Retry-After": "3000"}), httpx.Response(200)]),
    )
    assert fake.sleeps[0] >= 3.0
    http, fake = make(profile=LEARNWORLDS)
    http.send(
        "GET",
        "/x",
        scripted([httpx.Response(503, headers={"Retry-After": "7"}), httpx.Response(200)]),
    )
    assert fake.sleeps[0] >= 7.0


def test_persistent_failure_surfaces_as_transient_once_the_budget_is_spent() -> None:
    http, fake = make(budget_s=20.0)
    with pytest.raises(TransientError, match=r"HTTP 502.*budget 20 s") as info:
        http.send("GET", "/x", scripted([httpx.Response(502)] * 100))
    assert fake.now <= 20.0
    assert http.counter.calls > 3
    assert is_retryable(info.value) and info.value.status == 502


def test_timeouts_are_transient_and_refused_connections_unreachable() -> None:
    http, _ = make()
    attempt = scripted([httpx.ReadTimeout("slow"), httpx.Response(200)])
    assert http.send("GET", "/x", attempt).status_code == 200
    http, _ = make()
    with pytest.raises(UnreachableError, match="cannot connect") as info:
        http.send("GET", "/x", scripted([httpx.ConnectError("refused")] * 5))
    assert exit_code_for(info.value) == ExitCode.UNREACHABLE and http.counter.calls == 3


def test_requests_transport_errors_are_classified_too() -> None:
    http, _ = make()
    assert (
        http.send(
            "GET", "/x", scripted([requests.exceptions.ReadTimeout("slow"), httpx.Response(200)])
        ).status_code
        == 200
    )


def test_client_errors_are_returned_not_retried() -> None:
    http, fake = make()
    response = http.send("POST", "/x", scripted([httpx.Response(400, json={"message": "bad"})]))
    assert response.status_code == 400 and fake.sleeps == []


def test_pacer_follows_the_servers_headers_with_headroom() -> None:
    pacer = Pacer(100, 10.0, headroom=0.1)
    assert pacer.max_calls == 90
    pacer.observe({"X-HubSpot-RateLimit-Max": "190",
                   "X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})  # fmt: skip
    assert (pacer.max_calls, pacer.window_s) == (171, 10.0)
    pacer.observe({"X-HubSpot-RateLimit-Max": "50",
                   "X-HubSpot-RateLimit-Interval-Milliseconds": "1000"})  # fmt: skip
    assert (pacer.max_calls, pacer.window_s) == (45, 1.0)


def test_one_pacer_per_account_is_shared_by_every_client() -> None:
    a = shared_pacer(("hubspot", "http://h", "tok1"), 100, 10.0, 0.1)
    b = shared_pacer(("hubspot", "http://h", "tok1"), 100, 10.0, 0.1)
    c = shared_pacer(("hubspot", "http://h", "tok2"), 100, 10.0, 0.1)
    assert a is b and a is not c


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5", 5.0), ("0", 0.0), ("3000", 3.0), (" 2.5 ", 2.5), ("soon", None), ("", None),
     (None, None), ("-4", None), ("nan", None)],
)  # fmt: skip
def test_one_retry_after_parser(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value) == seconds


def test_retry_after_as_an_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=90.0) == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"},
         "VALIDATION_ERROR: Property values were not valid"),
        ({"errors": [{"code": "400", "context": "access_denied", "message": "denied"}]}, "denied"),
        ({"error": "Too many requests"}, "Too many requests"),
        ({"error": "invalid_client", "error_description": "bad secret"}, "invalid_client: bad secret"),
        (["odd"], "['odd']"),
    ],
)  # fmt: skip
def test_one_error_body_parser(body: object, expected: str) -> None:
    assert error_message(httpx.Response(400, json=body)) == expected


def test_error_body_that_is_not_json() -> None:
    assert error_message(httpx.Response(502, text="<html>Bad gateway</html>")).startswith("<html>")


def test_a_credential_that_is_not_a_header_value_is_a_config_error_without_its_text() -> None:
    http, _ = make()
    secret = "pat-na1-with\nnewline"
    with pytest.raises(ConfigurationError, match="not a valid HTTP header value") as info:
        http.send(
            "GET", "/x", scripted([httpx.LocalProtocolError(f"Illegal header value b'{secret}'")])
        )
    assert "newline" not in str(info.value) and exit_code_for(info.value) == ExitCode.BAD_CONFIG
