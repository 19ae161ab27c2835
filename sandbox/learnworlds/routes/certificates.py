"""GET /v2/certificates: needs a course_id or a user_id (there is no school-wide list)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import get_emulator, require_auth
from sandbox.learnworlds.errors import PlainError
from sandbox.learnworlds.pagination import paginate
from sandbox.learnworlds.store import CertificateRow

router = APIRouter(prefix=f"{API_PREFIX}/v2/certificates", dependencies=[Depends(require_auth)])


@router.get("")
async def list_certificates(
    request: Request,
    page: Annotated[int, Query(ge=1)] = 1,
    course_id: str | None = None,
    user_id: str | None = None,
) -> Response:
    if not course_id and not user_id:
        raise PlainError(400, "You need to provide a course_id or a user_id query parameter.")
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        user = store.find_user(user_id) if user_id else None
        uid = user.id if user is not None else None

        def matching() -> list[CertificateRow]:
            if user_id and uid is None:
                return []
            rows = (
                store.certificates_by_user.get(uid, [])
                if uid is not None
                else store.certificates_by_course.get(str(course_id), [])
            )
            # Newest issued first, like the other school-level lists.
            return [r for r in reversed(rows) if not course_id or r.course_id == course_id]

        rows = store.cached(("certificates", course_id, uid, user_id), matching)
        return paginate(rows, page, 20, lambda r: orjson.Fragment(r.raw))
