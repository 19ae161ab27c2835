"""A thin httpx client for the LearnWorlds user writes the two-way sync makes.

Every call goes through the shared LearnWorlds `HttpPolicy`: the same pacer as the extract
for the same school and client (one 30-requests-per-10-s budget per school in a process),
retries within the budget, typed errors. Only PUT /v2/users/{id}, PUT /v2/users/{id}/tags,
POST /v2/users and GET /v2/users/{id} are used: never passwords, roles, enrollments or email.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from lmsbridge_core.errors import LmsbridgeError
from lmsbridge_core.http import (
    LEARNWORLDS,
    CallCounter,
    HttpPolicy,
    body_message,
    error_message,
    learnworlds_policy,
    raise_for_auth,
)
from lmsbridge_core.learnworlds_token import (
    TOKEN_PATH,
    access_token,
    lifetime_s,
    refused,
    token_request,
)
from reverse_etl.client import json_body

DEFAULT_TOKEN_LIFETIME_S = 3600


@dataclass(frozen=True)
class LmsResponse:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        """LearnWorlds' reason: errors[].message, else error, else message (three shapes)."""
        return _reason(self.body) or f"HTTP {self.status}"


def _reason(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("errors"), dict):
        # 422 validation: {"errors": {"field": [{"0": "The 'Field' field is ..."}]}}
        parts = []
        for name, problems in body["errors"].items():
            texts = [v for p in problems or [] if isinstance(p, dict) for v in p.values()]
            parts.append(f"{name}: {'; '.join(str(t) for t in texts) or 'invalid'}")
        if parts:
            return "; ".join(parts)
    return body_message(body)


class LmsClient:
    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        rate: tuple[int, float],
        budget_s: float,
        counter: CallCounter | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._secret = client_secret
        self._http = httpx.Client(
            base_url=self._base,
            headers={"Lw-Client": client_id, "Accept": "application/json"},
            timeout=timeout_s,
        )
        self.policy: HttpPolicy = learnworlds_policy(
            self._base, client_id, rate=rate, budget_s=budget_s, counter=counter
        )
        self._token: str | None = None
        self._token_until = 0.0

    @property
    def counter(self) -> CallCounter:
        return self.policy.counter

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LmsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mint(self) -> str:
        response = self.policy.send(
            "POST",
            TOKEN_PATH,
            lambda: self._http.post(TOKEN_PATH, **token_request(self._client_id, self._secret)),
        )
        error = refused(response)
        if error is not None:
            raise error
        body = json_body(response)
        token = access_token(body)
        if response.status_code != 200 or token is None:
            raise LmsbridgeError(
                f"LearnWorlds token request failed: HTTP {response.status_code}: "
                f"{error_message(response)}"
            )
        self._token = token
        self._token_until = time.monotonic() + lifetime_s(body, DEFAULT_TOKEN_LIFETIME_S)
        return token

    def _bearer(self) -> str:
        if self._token is None or time.monotonic() >= self._token_until:
            return self._mint()
        return self._token

    def call(self, method: str, path: str, json: Any = None) -> LmsResponse:
        for attempt in (1, 2):
            response = self.policy.send(method, path, lambda: self._send(method, path, json))
            if response.status_code == 401 and attempt == 1:
                # LearnWorlds may invalidate tokens early (a regenerated secret): mint once.
                self._token = None
                continue
            raise_for_auth(response, LEARNWORLDS, method, path)
            return LmsResponse(response.status_code, json_body(response))
        raise AssertionError("unreachable")

    def _send(self, method: str, path: str, json: Any) -> httpx.Response:
        # The bearer is read per attempt: a retry after a re-mint carries the new token.
        headers = {"Authorization": f"Bearer {self._bearer()}"}
        return self._http.request(method, path, json=json, headers=headers)

    # --- users -----------------------------------------------------------------------------
    def update_user(self, user_id: str, body: dict[str, Any]) -> LmsResponse:
        return self.call("PUT", f"/v2/users/{quote(user_id, safe='')}", body)

    def update_tags(self, user_id: str, tags: list[str], action: str) -> LmsResponse:
        return self.call(
            "PUT",
            f"/v2/users/{quote(user_id, safe='')}/tags",
            {"tags": tags, "action": action},
        )

    def create_user(self, body: dict[str, Any]) -> LmsResponse:
        return self.call("POST", "/v2/users", body)

    def get_user(self, id_or_email: str) -> LmsResponse:
        return self.call("GET", f"/v2/users/{quote(id_or_email, safe='')}")
