"""Courses: list, read, roster and grades."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response

from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import get_emulator, require_auth
from sandbox.learnworlds.errors import NOT_FOUND, LearnWorldsError
from sandbox.learnworlds.pagination import paginate
from sandbox.learnworlds.store import GradeRow, Store

router = APIRouter(prefix=f"{API_PREFIX}/v2/courses", dependencies=[Depends(require_auth)])

Page = Annotated[int, Query(ge=1)]
PerPage = Annotated[int, Query(ge=1, le=200)]


def _split(values: list[str] | None) -> frozenset[str]:
    """Accept both `a,b` and repeated parameters (`access=a&access=b`)."""
    return frozenset(p.strip() for v in values or () for p in v.split(",") if p.strip())


def _course_or_404(store: Store, course_id: str) -> None:
    if course_id not in store.courses:
        raise LearnWorldsError(404, NOT_FOUND)


@router.get("")
async def list_courses(
    request: Request,
    page: Page = 1,
    categories: Annotated[list[str] | None, Query()] = None,
    access: Annotated[list[str] | None, Query()] = None,
) -> Response:
    emulator = get_emulator(request)
    wanted_categories = _split(categories)
    wanted_access = _split(access)
    with emulator.lock:
        store = emulator.store

        def matching() -> list[str]:
            return [
                cid
                for cid in store.courses_order
                if (
                    not wanted_categories
                    or wanted_categories & set(store.courses[cid].get("categories") or ())
                )
                and (not wanted_access or store.courses[cid].get("access") in wanted_access)
            ]

        ids = store.cached(("courses", wanted_categories, wanted_access), matching)
        raw = store.courses_raw
        # Only a fixed page size is documented for courses; items_per_page is not honoured.
        return paginate(ids, page, 50, lambda cid: orjson.Fragment(raw[cid]))


@router.get("/{course_id}")
async def get_course(request: Request, course_id: str) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        _course_or_404(emulator.store, course_id)
        return Response(emulator.store.courses_raw[course_id], media_type="application/json")


@router.get("/{course_id}/users")
async def course_roster(
    request: Request, course_id: str, page: Page = 1, items_per_page: PerPage = 20
) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        _course_or_404(store, course_id)
        # The roster is full User objects, with no enrollment date or progress.
        ids = store.cached(
            ("roster", course_id),
            lambda: [uid for uid in store.roster.get(course_id, {}) if uid in store.users_raw],
        )
        raw = store.users_raw
        return paginate(ids, page, items_per_page, lambda uid: orjson.Fragment(raw[uid]))


@router.get("/{course_id}/grades")
async def course_grades(
    request: Request,
    course_id: str,
    page: Page = 1,
    items_per_page: PerPage = 20,
    users: str | None = None,
    learning_units: Annotated[str | None, Query(alias="learningUnits")] = None,
    sort: Literal["created", "submittedTimestamp"] = "created",
    order: Literal["asc", "desc"] = "desc",
) -> Response:
    emulator = get_emulator(request)
    wanted_users = _split([users] if users else None)
    wanted_units = _split([learning_units] if learning_units else None)
    with emulator.lock:
        store = emulator.store
        _course_or_404(store, course_id)

        def matching() -> list[GradeRow]:
            rows = [
                g
                for g in store.grades_by_course.get(course_id, ())
                if (not wanted_users or g.user_id in wanted_users)
                and (not wanted_units or g.unit_id in wanted_units)
            ]
            if sort == "submittedTimestamp":
                rows.sort(key=lambda g: g.submitted)
            if order == "desc":
                rows.reverse()
            return rows

        key = ("grades", course_id, wanted_users, wanted_units, sort, order)
        rows = store.cached(key, matching)
        return paginate(rows, page, items_per_page, lambda g: orjson.Fragment(g.raw))
