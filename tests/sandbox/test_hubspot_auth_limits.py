"""Auth (401/403 bodies), the burst and daily rate limits with their headers, and owners."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.hubspot import HubSpotConfig, create_app
from tests.sandbox.hubspot_support import TOKEN, Api
from tests.sandbox.server_support import serve

RATE_HEADERS = (
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
)


@pytest.fixture
def strict_url() -> Iterator[str]:
    """A portal that only knows one token and grants only contact scopes."""
    config = HubSpotConfig(
        tokens=[TOKEN], scopes=["crm.objects.contacts.read", "crm.objects.contacts.write"]
    )
    with serve(create_app(config)) as url:
        yield url


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "pat-na1-no-scheme"])
def test_missing_or_malformed_bearer_is_401(hs_url: str, header: str | None) -> None:
    with Api(hs_url, token=None) as api:
        headers = {"Authorization": header} if header is not None else {}
        resp = api.get("/crm/v3/objects/contacts", headers=headers)
    assert resp.status_code == 401
    body = resp.json()
    assert body["category"] == "INVALID_AUTHENTICATION" and body["status"] == "error"
    assert body["correlationId"]


def test_unknown_token_is_401_and_never_echoed(strict_url: str) -> None:
    with Api(strict_url, token="pat-na1-wrong-secret") as api:
        resp = api.get("/crm/v3/objects/contacts")
    assert resp.status_code == 401
    assert "pat-na1-wrong-secret" not in resp.text


def test_missing_scope_is_403_with_required_scopes(strict_url: str) -> None:
    with Api(strict_url) as api:
        assert api.get("/crm/v3/objects/contacts").status_code == 200
        resp = api.get("/crm/v3/objects/deals")
        prop = api.post(
            "/crm/v3/properties/contacts",
            json={
                "name": "x_y",
                "label": "x",
                "type": "string",
                "fieldType": "text",
                "groupName": "contactinformation",
            },
        )
    assert resp.status_code == 403
    body = resp.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.deals.read"]
    assert prop.status_code == 403
    assert prop.json()["errors"][0]["context"]["requiredGranularScopes"] == [
        "crm.schemas.contacts.write"
    ]


def test_auth_can_be_restricted_at_runtime(hs: Api, hs_url: str) -> None:
    hs.control("auth", {"tokens": ["only-this"], "scopes": ["crm.objects.owners.read"]})
    try:
        assert hs.get("/crm/v3/objects/contacts").status_code == 401
        with Api(hs_url, token="only-this") as api:
            assert api.get("/crm/v3/owners").status_code == 200
            assert api.get("/crm/v3/objects/contacts").status_code == 403
    finally:
        hs.control("auth", {"tokens": None, "scopes": None})


def test_headers_and_burst_limit_from_chaos_knobs(hs: Api) -> None:
    hs.control("chaos", {"rate_max": 5, "rate_interval_ms": 60_000})
    responses = [hs.get("/crm/v3/objects/contacts", params={"limit": 1}) for _ in range(7)]
    assert [r.status_code for r in responses] == [200] * 5 + [429] * 2
    first = responses[0]
    for name in RATE_HEADERS:
        assert name in first.headers
    assert first.headers["X-HubSpot-RateLimit-Max"] == "5"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "60000"
    assert [int(r.headers["X-HubSpot-RateLimit-Remaining"]) for r in responses[:5]] == [
        4,
        3,
        2,
        1,
        0,
    ]
    assert first.headers["X-HubSpot-Correlation-Id"]
    body = responses[5].json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert hs.calls()["status_429"] == 2


def test_burst_window_is_per_token(hs: Api, hs_url: str) -> None:
    hs.control("chaos", {"rate_max": 2, "rate_interval_ms": 60_000})
    assert [hs.get("/crm/v3/owners").status_code for _ in range(3)] == [200, 200, 429]
    with Api(hs_url, token="another-token") as other:
        assert other.get("/crm/v3/owners").status_code == 200


def test_daily_limit(hs: Api) -> None:
    hs.control("chaos", {"daily_limit": 3})
    codes = [hs.get("/crm/v3/owners").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    resp = hs.get("/crm/v3/owners")
    assert resp.json()["policyName"] == "DAILY"
    assert resp.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"


def test_forced_429_burst_uses_hubspot_body(hs: Api) -> None:
    hs.control("chaos", {"burst_429": 1})
    resp = hs.get("/crm/v3/objects/contacts")
    assert resp.status_code == 429 and resp.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert hs.get("/crm/v3/objects/contacts").status_code == 200


def test_owners_paging_and_email_filter(hs: Api) -> None:
    page = hs.get("/crm/v3/owners", params={"limit": 2}).json()
    assert [o["id"] for o in page["results"]] == ["500", "501"]
    rest = hs.get(
        "/crm/v3/owners", params={"limit": 2, "after": page["paging"]["next"]["after"]}
    ).json()
    assert [o["id"] for o in rest["results"]] == ["502"] and "paging" not in rest
    found = hs.get("/crm/v3/owners", params={"email": "OWNER1@corp.example"}).json()
    assert [o["id"] for o in found["results"]] == ["501"]
    assert hs.get("/crm/v3/owners/502").json()["email"] == "owner2@corp.example"
    assert hs.get("/crm/v3/owners/9001", params={"idProperty": "userId"}).json()["id"] == "501"
    assert hs.get("/crm/v3/owners/999").status_code == 404


def test_refused_calls_are_counted_under_their_route(hs: Api, hs_url: str) -> None:
    hs.control("chaos", {"rate_max": 1, "rate_interval_ms": 60_000})
    hs.get("/crm/v3/objects/contacts")
    hs.get("/crm/v3/objects/contacts")
    with Api(hs_url, token=None) as anonymous:
        anonymous.get("/crm/v3/objects/contacts")
    routes = {(r["route"], r["status"]): r["count"] for r in hs.calls()["routes"]}
    route = "/crm/v3/objects/{object_type}"
    assert routes[(route, 200)] == 1
    assert routes[(route, 429)] == 1
    assert routes[(route, 401)] == 1


def test_an_over_long_url_is_414_from_the_edge() -> None:
    # Reference section 10: ~900 deal properties in `properties=` get 414; 12,000 characters do not.
    long_list = ",".join(f"custom_property_{i:04d}" for i in range(900))
    short_list = long_list[:12_000].rsplit(",", 1)[0]
    # its own portal: the session one may hold rate limits other tests lowered
    with serve(create_app(HubSpotConfig())) as url, Api(url) as api:
        refused = api.get("/crm/v3/objects/deals", params={"properties": long_list})
        accepted = api.get("/crm/v3/objects/deals", params={"properties": short_list})
    assert refused.status_code == 414
    assert "Request-URI Too Large" in refused.text
    assert "X-HubSpot-RateLimit-Remaining" not in refused.headers
    assert accepted.status_code == 200
