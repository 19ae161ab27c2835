"""Users: list, read, create, update, tag, enroll/unenroll, and a user's enrollments and
progress."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import get_emulator, require_auth
from sandbox.learnworlds.errors import NOT_FOUND, LearnWorldsError
from sandbox.learnworlds.events import (
    enrolled_free,
    product_ref,
    user_tags_changed,
    user_unenrolled,
    user_updated,
)
from sandbox.learnworlds.ids import object_id
from sandbox.learnworlds.pagination import json_response, paginate
from sandbox.learnworlds.records import new_user, progress_item
from sandbox.learnworlds.store import Store, UserRow
from sandbox.learnworlds.user_writes import (
    EMAIL_PATTERN,
    FieldValue,
    attach_tags,
    check_signup_rules,
    detach_tags,
    merge_fields,
    merge_utms,
    replace_tags,
    set_admin,
)

router = APIRouter(prefix=f"{API_PREFIX}/v2/users", dependencies=[Depends(require_auth)])

Page = Annotated[int, Query(ge=1)]
PerPage = Annotated[int, Query(ge=1, le=200)]


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


class _Write(BaseModel):
    """Keys both user writes share. Unknown keys (first_name, last_name, billing_info, role,
    is_suspended, ...) are ignored, as the real API ignores keys outside its request model."""

    model_config = ConfigDict(extra="ignore")

    subscribed_for_marketing_emails: bool | None = None
    # Guess: an absent or null `is_admin` leaves the user's admin flag as it is (the spec's
    # `default: false` is read as documentation, not as "absent means demote").
    is_admin: bool | None = None
    signup_validation_rules: bool | None = False
    fields: dict[str, FieldValue] | None = None
    tags: list[str] | None = None
    utms: dict[str, str | None] | None = None


class UserCreate(_Write):
    """UserRequestModel (POST /v2/users): email and username are required."""

    email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    username: str = Field(min_length=1, max_length=200)
    # Accepted and never echoed back (the User object has no password).
    password: str | None = None
    send_registration_email: bool | None = None


class UserUpdate(_Write):
    """UserRequestPutModel (PUT /v2/users/{id}): every key optional."""

    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=254)
    username: str | None = Field(default=None, min_length=1, max_length=200)


class TagsChange(BaseModel):
    """PUT /v2/users/{id}/tags: both keys required (the spec's `required: [tags, action]`)."""

    model_config = ConfigDict(extra="ignore")

    tags: list[str]
    action: Literal["attach", "detach"]


def _apply(user: dict[str, Any], body: _Write) -> tuple[list[str], list[str]]:
    """Apply a create/update body; returns the tags (added, removed).

    Guess: a null value leaves the attribute unchanged (except inside `fields` and `utms`,
    where null clears that one key) and `tags` replaces the whole set.
    """
    for name in ("email", "username", "subscribed_for_marketing_emails"):
        value = getattr(body, name, None)
        if value is not None:
            user[name] = value
    if body.is_admin is not None:
        set_admin(user, body.is_admin)
    if body.fields is not None:
        merge_fields(user, body.fields)
    if body.utms is not None:
        merge_utms(user, body.utms)
    if body.tags is not None:
        return replace_tags(user, body.tags)
    return [], []


def _email_taken(store: Store, email: str, user_id: str | None) -> bool:
    owner = store.users_by_email.get(email.strip().lower())
    return owner is not None and owner != user_id


def email_taken_error() -> LearnWorldsError:
    return LearnWorldsError(400, "The email has already been taken.", "email")


@router.post("", status_code=201)
async def create_user(request: Request, body: UserCreate) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        if _email_taken(store, body.email, None):
            raise email_taken_error()
        now = time.time()
        user = new_user(object_id(now), body.email, body.username, now)
        _apply(user, body)
        if body.signup_validation_rules:
            check_signup_rules(emulator.signup_rules, user, body.fields)
        store.put_user(user)
        send = body.send_registration_email
        if emulator.config.registration_email_default if send is None else send:
            store.outbox.append(
                {
                    "type": "registration",
                    "user_id": user["id"],
                    "to": user["email"],
                    "username": user["username"],
                    "sent_at": now,
                }
            )
    request.state.records_written = 1
    # Sign-up fires userUpdated (there is no "user created" event). Guess: the initial tags
    # fire no userTagAdded (the reference lists none for sign-up).
    user_updated(emulator, user)
    return json_response(user, status_code=201)


@router.put("/{user_key}")
async def update_user(request: Request, user_key: str, body: UserUpdate) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        if body.email is not None and _email_taken(store, body.email, row.id):
            raise email_taken_error()
        user = store.user(row.id)
        added, removed = _apply(user, body)
        if body.signup_validation_rules:
            check_signup_rules(emulator.signup_rules, user, body.fields)
        store.put_user(user)
    request.state.records_written = 1
    # Guess: every accepted update fires userUpdated (even one that changes nothing), then
    # one tag event per tag the new set added or removed.
    user_updated(emulator, user)
    user_tags_changed(emulator, user, added, removed)
    return json_response(user)


@router.put("/{user_key}/tags")
async def update_user_tags(request: Request, user_key: str, body: TagsChange) -> Response:
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        user = store.user(row.id)
        if body.action == "attach":
            added, removed = attach_tags(user, body.tags), []
        else:
            added, removed = [], detach_tags(user, body.tags)
        if added or removed:
            store.put_user(user)
    request.state.records_written = 1
    # Guess: a tags change fires only the tag events, no userUpdated.
    user_tags_changed(emulator, user, added, removed)
    return json_response(user)


ProductType = Literal["course", "bundle", "subscription"]


class Unenrollment(BaseModel):
    """DELETE /v2/users/{id}/enrollment: the spec's `required: [productId, productType]`."""

    model_config = ConfigDict(extra="ignore")

    product_id: str = Field(alias="productId", min_length=1)
    product_type: ProductType = Field(alias="productType")


class Enrollment(Unenrollment):
    """POST /v2/users/{id}/enrollment: `price` is required too; the rest is optional."""

    price: float = Field(ge=0)
    justification: str | None = None
    duration_type: Literal["months", "weeks", "days"] | None = None
    duration: int | None = Field(default=None, ge=1)
    send_enrollment_email: bool | None = None


def _course_product(store: Store, body: Unenrollment) -> dict[str, Any]:
    """The course a product id names. Guess: the emulated school sells no bundles and no
    manual subscriptions, so those product types name nothing (the API's 404)."""
    course = store.courses.get(body.product_id) if body.product_type == "course" else None
    if course is None:
        raise LearnWorldsError(404, NOT_FOUND)
    return course


@router.post("/{user_key}/enrollment")
async def enroll_user(request: Request, user_key: str, body: Enrollment) -> Response:
    """200 `{"success": true}` (the spec's only documented answer).

    Guesses: enrolling a learner already enrolled changes nothing and fires nothing; a free
    enrollment (price 0) fires `enrolledFreeCourse` like a learner's own free enrollment,
    a priced one fires no webhook (no payment is recorded: `productBought` is for purchases);
    both log a `manual_enrollment` event; the email goes out only when asked for (`true`).
    """
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        course = _course_product(store, body)
        fresh = course["id"] not in store.enrollments.get(row.id, {})
        if fresh:
            now = time.time()
            user = store.user(row.id)
            store.put_enrollment(row.id, course["id"], int(now), None)
            store.add_event_log(
                {
                    "user": {"id": row.id, "username": user.get("username")},
                    "created": now,
                    "activity": "manual_enrollment",
                    "description": f"Enrolled in {course.get('title')}",
                    "type": "user",
                    "additional_info": {
                        "course_id": course["id"],
                        "course_title": course.get("title"),
                        "justification": body.justification,
                        "price": body.price,
                    },
                }
            )
            if body.send_enrollment_email:
                store.outbox.append(
                    {
                        "type": "enrollment",
                        "user_id": row.id,
                        "to": user.get("email"),
                        "product_id": course["id"],
                        "sent_at": now,
                    }
                )
    request.state.records_written = 1 if fresh else 0
    if fresh and body.price == 0:
        enrolled_free(emulator, user, course, now)
    return json_response({"success": True})


@router.delete("/{user_key}/enrollment", status_code=204)
async def unenroll_user(request: Request, user_key: str, body: Unenrollment) -> Response:
    """204 and `userUnenrolledFromProduct`. Guesses: the learner's progress is kept (only the
    enrollment goes: the course leaves their list and the roster); a product the learner is
    not enrolled in is a 404, like an unknown one."""
    emulator = get_emulator(request)
    with emulator.lock:
        store = emulator.store
        row = find_user(store, user_key)
        course = _course_product(store, body)
        if store.remove_enrollment(row.id, course["id"]) is None:
            raise LearnWorldsError(404, NOT_FOUND)
        user = store.user(row.id)
    request.state.records_written = 1
    user_unenrolled(emulator, user, product_ref(course, body.product_type))
    return Response(status_code=204)


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
