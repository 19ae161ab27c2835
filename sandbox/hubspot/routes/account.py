"""`/account-info/v3`: the account's details and how much of the daily limit is spent.

The emulated account's time zone is UTC, so the day resets at the next UTC midnight.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request

from ..gateway import GatedRoute
from ..state import portal

router = APIRouter(prefix="/account-info/v3", route_class=GatedRoute)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@router.get("/api-usage/daily/private-apps")
def daily_usage(request: Request) -> dict[str, Any]:
    limiter = portal(request).limiter
    now = datetime.now(UTC)
    with limiter.lock:
        used, limit = limiter.daily_used, limiter.daily_limit
    resets = datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC)
    return {
        "results": [
            {
                "name": "private-apps-api-calls-daily",
                "usageLimit": limit,
                "currentUsage": used,
                "collectedAt": _iso(now),
                "resetsAt": _iso(resets),
                "fetchStatus": "SUCCESS",
            }
        ]
    }


@router.get("/details")
def account_details(request: Request) -> dict[str, Any]:
    """The account's id, UI domain and currency: what links into the HubSpot app need."""
    config = portal(request).config
    return {
        "portalId": config.portal_id,
        "accountType": "STANDARD",
        "timeZone": "UTC",
        "companyCurrency": "USD",
        "additionalCurrencies": [],
        "utcOffset": "+00:00",
        "utcOffsetMilliseconds": 0,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }
