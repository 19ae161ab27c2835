"""The 30 requests / 10 s sliding window, per client, token calls included."""

from __future__ import annotations

import time
from pathlib import Path

from tests.sandbox.learnworlds_support import CLIENT_ID, running_school

TOO_MANY = {"error": "Too many requests"}


def test_default_limit_is_30_per_window_and_counts_the_token_call(tmp_path: Path) -> None:
    with running_school(tmp_path, rate_max=30) as (api, _, _):
        api.mint()  # call 1
        statuses = [api.get("/v2/courses").status_code for _ in range(30)]
        assert statuses[:29] == [200] * 29
        assert statuses[29] == 429
        assert api.get("/v2/courses").json() == TOO_MANY
        # The control API is never limited.
        assert api.control("GET", "/calls")["status_429"] == 2


def test_limit_is_per_client_and_tunable_at_runtime(tmp_path: Path) -> None:
    with running_school(tmp_path) as (api, _, _):
        api.mint()
        api.control("POST", "/chaos", json={"rate_max": 3, "rate_interval_ms": 60_000})
        assert [api.get("/v2/courses").status_code for _ in range(4)] == [200, 200, 200, 429]
        other = api.http.get("/admin/api/v2/courses", headers={"Lw-Client": "another-client"})
        # A different client has its own window (and is then rejected for being unknown).
        assert other.status_code == 400
        api.control("POST", "/chaos", json={})
        assert api.get("/v2/courses").status_code == 200


def test_window_slides(tmp_path: Path) -> None:
    with running_school(tmp_path) as (api, _, _):
        api.mint()
        api.control("POST", "/chaos", json={"rate_max": 2, "rate_interval_ms": 300})
        assert [api.get("/v2/courses").status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(0.4)
        assert api.get("/v2/courses").status_code == 200


def test_forced_bursts_use_the_real_429_body(tmp_path: Path) -> None:
    with running_school(tmp_path) as (api, _, _):
        api.mint()
        api.control("POST", "/chaos", json={"burst_429": 2, "error_rate": 0})
        first, second, third = (api.get("/v2/users") for _ in range(3))
        assert first.status_code == second.status_code == 429
        assert first.json() == TOO_MANY
        assert third.status_code == 200
        api.control("POST", "/chaos", json={"fail_after": 0})
        failed = api.http.post(
            "/admin/api/oauth2/access_token", headers={"Lw-Client": CLIENT_ID}, json={}
        )
        assert failed.status_code >= 500 and set(failed.json()) == {"error"}
