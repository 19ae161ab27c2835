"""GET /v2/event-logs: the activity feed, filterable by user, activity and time window."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import get_emulator, require_auth
from sandbox.learnworlds.pagination import paginate
from sandbox.learnworlds.store import EventRow, time_window

router = APIRouter(prefix=f"{API_PREFIX}/v2/event-logs", dependencies=[Depends(require_auth)])


@router.get("")
async def list_event_logs(
    request: Request,
    page: Annotated[int, Query(ge=1)] = 1,
    user_id: str | None = None,
    activity: str | None = None,
    created_after: float | None = None,
    created_before: float | None = None,
    sort: Literal["asc", "desc"] = "desc",
) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        user = store.find_user(user_id) if user_id else None

        def matching() -> list[EventRow]:
            if user_id and user is None:
                return []
            source = store.event_logs_by_user.get(user.id, []) if user else store.event_logs
            rows = [
                e
                for e in time_window(source, created_after, created_before)
                if activity is None or e.activity == activity
            ]
            if sort == "desc":
                rows.reverse()
            return rows

        key = (
            "event_logs",
            user.id if user else user_id,
            activity,
            created_after,
            created_before,
            sort,
        )
        rows = store.cached(key, matching)
        # Event logs have a fixed page size of 50; items_per_page is not documented here.
        return paginate(rows, page, 50, lambda e: orjson.Fragment(e.raw))
