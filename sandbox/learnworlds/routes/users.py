"""Users: list, read, create, update, and a user's enrollments and progress."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import get_emulator, require_auth
from sandbox.learnworlds.errors import NOT_FOUND, LearnWorldsError
from sandbox.learnworlds.events import user_updated
from sandbox.learnworlds.ids import object_id
from sandbox.learnworlds.pagination import json_response, paginate
from sandbox.learnworlds.records import new_user, progress_item
from sandbox.learnworlds.store import Store, UserRow

router = APIRouter(prefix=f"{API_PREFIX}/v2/users", dependencies=[Depends(require_auth)])

Page = Annotated[int, Query(ge=1)]
PerPage = Annotated[int, Query(ge=1, le=200)]
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def find_user(store: Store, key: str) -> UserRow:
    row = store.find_user(key)
    if row is None:
        raise LearnWorldsError(404, NOT_FOUND)
    return row


def _user_ids(
    store: Store,
    after: float | None,
    before: float | None,
    status: str | None,
    role: str | None,
    tags: frozenset[str],
    include_suspended: bool,
    custom: tuple[tuple[str, str], ...],
) -> list[str]:
    ids: list[str] = []
    for created, user_id in reversed(store.users_order):
        if before is not None and created > before:
            continue
        if after is not None and created < after:
            # users_order is sorted, so nothing older can match either.
            break
        row = store.users[user_id]
        if row.is_suspended and not include_suspended and status != "suspended":
            continue
        if status == "suspended" and not row.is_suspended:
            continue
        if status == "never_logged_in" and not row.never_logged_in:
            continue
        if status == "paying" and user_id not in store.paying_users:
            continue
        if status == "non_paying" and user_id in store.paying_users:
            continue
        if role is not None and row.role != role:
            continue
        if tags and not (tags & row.tags):
            continue
        if custom:
            fields = store.user(user_id).get("fields") or {}
            if any(str(fields.get(name)) != value for name, value in custom):
                continue
        ids.append(user_id)
    return ids


@router.get("")
async def list_users(
    request: Request,
    page: Page = 1,
    items_per_page: PerPage = 20,
    registration_after: float | None = None,
    registration_before: float | None = None,
    status: Literal["paying", "non_paying", "suspended", "never_logged_in"] | None = None,
    role: Literal["user", "admin", "instructor", "reporter"] | None = None,
    tags: str | None = None,
    include_suspended: bool = False,
) -> Response:
    emulator = get_emulator(request)
    tag_set = frozenset(t.strip() for t in (tags or "").split(",") if t.strip())
    # Custom sign-up fields filter as `cf_<name>=value`, matched inside `fields`.
    custom = tuple(sorted((k, v) for k, v in request.query_params.items() if k.startswith("cf_")))
    # The filters are both the cache key and the arguments, so they cannot drift apart.
    filters = (
        registration_after,
        registration_before,
        status,
        role,
        tag_set,
        include_suspended,
        custom,
    )
    with emulator.lock:
        store = emulator.store
        ids = store.cached(("users", *filters), lambda: _user_ids(store, *filters))
        raw = store.users_raw
        return paginate(ids, page, items_per_page, lambda uid: orjson.Fragment(raw[uid]))


@router.get("/{user_key}")
async def get_user(request: Request, user_key: str) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        row = find_user(emulator.store, user_key)
        return Response(emulator.store.users_raw[row.id], media_type="application/json")


class UserFields(BaseModel):
    """Writable user attributes; unknown keys are ignored as the real API ignores them."""

    model_config = ConfigDict(extra="ignore")

    username: str | None = Field(default=None, min_length=1, max_length=200)
    first_name: str | None = None
    last_name: str | None = None
    subscribed_for_marketing_emails: bool | None = None
    is_suspended: bool | None = None
    fields: dict[str, str | int | float | bool | None] | None = None
    tags: list[str] | None = None
    billing_info: dict[str, str | None] | None = None


class UserCreate(UserFields):
    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    password: str | None = None


class UserUpdate(UserFields):
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=254)


def _apply(user: dict[str, Any], changes: UserFields) -> None:
    values = changes.model_dump(exclude_unset=True, exclude={"password"})
    for name in ("fields", "billing_info"):
        if name in values and values[name] is not None:
            merged = dict(user.get(name) or {})
            merged.update(values.pop(name))
            user[name] = merged
    nullable = {"first_name", "last_name"}
    user.update({k: v for k, v in values.items() if v is not None or k in nullable})


def _email_taken(store: Store, email: str, user_id: str | None) -> bool:
    owner = store.users_by_email.get(email.strip().lower())
    return owner is not None and owner != user_id


@router.post("", status_code=201)
async def create_user(request: Request, body: UserCreate) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        if _email_taken(store, body.email, None):
            raise LearnWorldsError(400, "The email has already been taken.", "email")
        now = time.time()
        user = new_user(object_id(now), body.email, body.username, now)
        _apply(user, body)
        store.put_user(user)
    request.state.records_written = 1
    user_updated(emulator, user)
    return json_response(user, status_code=201)


@router.put("/{user_key}")
async def update_user(request: Request, user_key: str, body: UserUpdate) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        if body.email is not None and _email_taken(store, body.email, row.id):
            raise LearnWorldsError(400, "The email has already been taken.", "email")
        user = store.user(row.id)
        _apply(user, body)
        store.put_user(user)
    request.state.records_written = 1
    user_updated(emulator, user)
    return json_response(user)


@router.get("/{user_key}/courses")
async def user_courses(request: Request, user_key: str, page: Page = 1) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        enrollments = list(store.enrollments.get(row.id, {}).values())
        courses = store.courses_raw

        def render(e: Any) -> dict[str, Any]:
            course = courses.get(e.course_id)
            return {
                "created": e.created,
                "expires": e.expires,
                "course": orjson.Fragment(course) if course else {"id": e.course_id},
            }

        return paginate(enrollments, page, 50, render)


@router.get("/{user_key}/progress")
async def user_progress(
    request: Request, user_key: str, page: Page = 1, items_per_page: PerPage = 20
) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        rows = list(store.progress.get(row.id, {}).items())
        # The spec's one exception: a page past the end of user progress is "no results".
        return paginate(
            rows,
            page,
            items_per_page,
            lambda item: progress_item(item[1], item[0]),
            past_end_repeats_last=False,
        )


@router.get("/{user_key}/courses/{course_id}/progress")
async def user_course_progress(request: Request, user_key: str, course_id: str) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        if course_id not in store.courses:
            raise LearnWorldsError(404, NOT_FOUND)
        progress = store.progress.get(row.id, {}).get(course_id)
        if progress is None:
            if course_id not in store.enrollments.get(row.id, {}):
                raise LearnWorldsError(404, NOT_FOUND)
            return json_response(progress_item(None, None))
        return json_response(progress_item(progress, None))
