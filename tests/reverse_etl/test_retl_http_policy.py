"""Retry and pacing policy of lmsbridge_core.http, with a scripted transport and no real sleeps."""

import httpx
import pytest

from lmsbridge_core.http import DailyLimitExceeded, HubSpotRateLimiter, PacedHttp, RetriesExhausted


def paced(
    responses: list[httpx.Response], limiter: HubSpotRateLimiter | None = None
) -> tuple[PacedHttp, list[float]]:
    queue = list(responses)
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)

    client = httpx.Client(base_url="http://hubspot.test", transport=httpx.MockTransport(handler))
    return PacedHttp(
        client, limiter=limiter or HubSpotRateLimiter(1000, 1.0), sleep=sleeps.append
    ), sleeps


def rate_limited(policy: str) -> httpx.Response:
    return httpx.Response(
        429,
        json={
            "status": "error",
            "errorType": "RATE_LIMIT",
            "policyName": policy,
            "message": f"You have reached your {policy.lower()} limit.",
        },
    )


def test_burst_429_and_5xx_are_retried_and_counted() -> None:
    http, sleeps = paced(
        [rate_limited("TEN_SECONDLY_ROLLING"), httpx.Response(503), httpx.Response(200, json={})]
    )
    assert http.request("GET", "/x").status_code == 200
    assert (http.counters.calls, http.counters.status_429) == (3, 1)
    assert len(sleeps) == 2


def test_daily_limit_stops_without_retrying() -> None:
    http, sleeps = paced([rate_limited("DAILY"), httpx.Response(200)])
    with pytest.raises(DailyLimitExceeded, match="daily"):
        http.request("GET", "/x")
    assert http.counters.calls == 1 and sleeps == []


def test_locked_423_waits_at_least_two_seconds() -> None:
    http, sleeps = paced([httpx.Response(423), httpx.Response(200)])
    http.request("POST", "/x")
    assert sleeps and sleeps[0] >= 2.0


def test_retry_after_in_milliseconds_is_honoured() -> None:
    http, sleeps = paced(
        [httpx.Response(503, headers={"Retry-After": "3000"}), httpx.Response(200)]
    )
    http.request("GET", "/x")
    assert sleeps[0] >= 3.0


def test_persistent_failure_gives_up_with_a_clear_error() -> None:
    http, _ = paced([httpx.Response(502)] * 6)
    with pytest.raises(RetriesExhausted, match="after 6 attempts"):
        http.request("GET", "/x")


def test_client_errors_are_returned_not_retried() -> None:
    http, sleeps = paced([httpx.Response(400, json={"message": "bad"})])
    assert http.request("POST", "/x").status_code == 400 and sleeps == []


def test_limiter_follows_the_servers_headers() -> None:
    limiter = HubSpotRateLimiter(100, 10.0, margin=2)
    limiter.observe(
        httpx.Headers(
            {
                "X-HubSpot-RateLimit-Max": "190",
                "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
                "X-HubSpot-RateLimit-Remaining": "189",
            }
        )
    )
    assert (limiter.max_calls, limiter.interval_s) == (188, 10.0)
    limiter.observe(
        httpx.Headers(
            {"X-HubSpot-RateLimit-Max": "50", "X-HubSpot-RateLimit-Interval-Milliseconds": "1000"}
        )
    )
    assert (limiter.max_calls, limiter.interval_s) == (48, 1.0)
