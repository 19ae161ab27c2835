"""GET /v2/payments: the school's payments, newest first, with time and product filters."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import get_emulator, require_auth
from sandbox.learnworlds.errors import NOT_FOUND, LearnWorldsError, PlainError
from sandbox.learnworlds.pagination import paginate
from sandbox.learnworlds.store import PaymentRow, Store, time_window

router = APIRouter(prefix=f"{API_PREFIX}/v2/payments", dependencies=[Depends(require_auth)])

PRODUCT_TYPES = ("course", "bundle", "subscription")


def _user_id(store: Store, key: str | None) -> str | None:
    if key is None:
        return None
    row = store.find_user(key)
    # An unknown user simply has no payments.
    return row.id if row is not None else "\x00unknown"


@router.get("")
async def list_payments(
    request: Request,
    page: Annotated[int, Query(ge=1)] = 1,
    items_per_page: Annotated[int, Query(ge=1, le=200)] = 50,
    created_after: float | None = None,
    created_before: float | None = None,
    user_id: str | None = None,
    product_id: str | None = None,
    product_type: str | None = None,
    affiliate_id: str | None = None,
) -> Response:
    if product_type is not None and product_type not in PRODUCT_TYPES:
        raise PlainError(
            400,
            "You need to provide a valid product_type query parameters value: "
            + ", ".join(PRODUCT_TYPES),
        )
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        uid = _user_id(store, user_id)

        def matching() -> list[PaymentRow]:
            rows = [
                p
                for p in time_window(store.payments, created_after, created_before)
                if (uid is None or p.user_id == uid)
                and (product_id is None or p.product_id == product_id)
                and (product_type is None or p.product_type == product_type)
                and (
                    affiliate_id is None
                    or ((orjson.loads(p.raw).get("affiliate") or {}).get("id") == affiliate_id)
                )
            ]
            rows.reverse()
            return rows

        key = (
            "payments",
            created_after,
            created_before,
            uid,
            product_id,
            product_type,
            affiliate_id,
        )
        rows = store.cached(key, matching)
        return paginate(rows, page, items_per_page, lambda p: orjson.Fragment(p.raw))


@router.get("/{payment_id}")
async def get_payment(request: Request, payment_id: str) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        for row in emulator.store.payments:
            if row.id == payment_id:
                return Response(row.raw, media_type="application/json")
    raise LearnWorldsError(404, NOT_FOUND)
