"""A thin httpx client for the HubSpot endpoints the reverse ETL uses.

Every call goes through the shared HubSpot `HttpPolicy` (one pacer per token for the whole
process, header-driven, retries within the budget, typed errors). The token lives only in
the client's default headers; nothing here formats it into text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from lmsbridge_core.http import HUBSPOT, CallCounter, HttpPolicy, hubspot_policy, raise_for_auth

DEFAULT_BUDGET_S = 180.0


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: Any

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def json_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return {"message": response.text[:500]}


class HubSpotClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        policy: HttpPolicy | None = None,
        budget_s: float = DEFAULT_BUDGET_S,
        timeout_s: float = 30.0,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=timeout_s,
            transport=transport,
        )
        self.policy = policy or hubspot_policy(base_url, token, budget_s=budget_s)

    @property
    def counters(self) -> CallCounter:
        return self.policy.counter

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HubSpotClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, json: Any = None) -> ApiResponse:
        response = self.policy.send(
            method, path, lambda: self._http.request(method, path, json=json)
        )
        raise_for_auth(response, HUBSPOT, method, path)
        return ApiResponse(response.status_code, json_body(response))

    # --- account -------------------------------------------------------------------------
    def daily_usage(self) -> tuple[int, int] | None:
        """(calls used today, daily limit) for the account's private apps, if HubSpot says."""
        path = "/account-info/v3/api-usage/daily/private-apps"
        # Not through `call`: an app without access to this report (403) can still sync.
        response = self.policy.send("GET", path, lambda: self._http.get(path))
        body = json_body(response) if response.status_code == 200 else None
        body = body if isinstance(body, dict) else {}
        for item in body.get("results") or []:
            if isinstance(item, dict) and item.get("name") == "private-apps-api-calls-daily":
                try:
                    return int(item["currentUsage"]), int(item["usageLimit"])
                except (KeyError, TypeError, ValueError):
                    return None
        return None

    def account_details(self) -> tuple[int, str] | None:
        """(portal id, UI domain) for links into the HubSpot app, if the token may read them."""
        path = "/account-info/v3/details"
        response = self.policy.send("GET", path, lambda: self._http.get(path))
        body = json_body(response) if response.status_code == 200 else None
        if not isinstance(body, dict):
            return None
        try:
            return int(body["portalId"]), str(body.get("uiDomain") or "app.hubspot.com")
        except (KeyError, TypeError, ValueError):
            return None

    # --- objects -------------------------------------------------------------------------
    def batch_write(self, object_type: str, kind: str, inputs: list[dict[str, Any]]) -> ApiResponse:
        return self.call("POST", f"/crm/v3/objects/{object_type}/batch/{kind}", {"inputs": inputs})

    def batch_archive(self, object_type: str, ids: list[str]) -> ApiResponse:
        """204 and no body; archiving an id that is already archived succeeds too."""
        inputs = [{"id": i} for i in ids]
        return self.call("POST", f"/crm/v3/objects/{object_type}/batch/archive", {"inputs": inputs})

    def batch_associate(
        self, from_type: str, to_type: str, inputs: list[dict[str, Any]]
    ) -> ApiResponse:
        return self.call(
            "POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/create", {"inputs": inputs}
        )

    # --- properties ----------------------------------------------------------------------
    def list_properties(self, object_type: str, *, archived: bool = False) -> ApiResponse:
        suffix = "?archived=true" if archived else ""
        return self.call("GET", f"/crm/v3/properties/{object_type}{suffix}")

    def get_group(self, object_type: str, name: str) -> ApiResponse:
        return self.call("GET", f"/crm/v3/properties/{object_type}/groups/{name}")

    def create_group(self, object_type: str, name: str, label: str) -> ApiResponse:
        return self.call(
            "POST", f"/crm/v3/properties/{object_type}/groups", {"name": name, "label": label}
        )

    def create_properties(self, object_type: str, inputs: list[dict[str, Any]]) -> ApiResponse:
        return self.call(
            "POST", f"/crm/v3/properties/{object_type}/batch/create", {"inputs": inputs}
        )

    def update_property(self, object_type: str, name: str, body: dict[str, Any]) -> ApiResponse:
        return self.call("PATCH", f"/crm/v3/properties/{object_type}/{name}", body)
