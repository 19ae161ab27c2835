"""Wiring into the shared `/_sandbox/` control plane, plus the LMS-only control routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sandbox.control import Chaos, ControlHooks
from sandbox.learnworlds.activity import ActivityRequest, generate_activity, mutate
from sandbox.learnworlds.config import API_PREFIX, SignupRules
from sandbox.learnworlds.context import Emulator
from sandbox.learnworlds.errors import (
    NOT_FOUND,
    LearnWorldsError,
    rate_limited_response,
    server_error_response,
)
from sandbox.learnworlds.events import user_tags_changed, user_updated
from sandbox.learnworlds.loader import DatasetError, load_into
from sandbox.learnworlds.store import Store
from sandbox.learnworlds.user_writes import (
    EMAIL_PATTERN,
    FieldValue,
    merge_billing,
    merge_fields,
    merge_utms,
    replace_tags,
)


class WebhookTarget(BaseModel):
    url: str | None = None


class HandEdit(BaseModel):
    """A school admin's edit in the LearnWorlds UI (`POST /_sandbox/users/{key}/edit`).

    Every key optional; unknown keys are refused (422) so a typo in a test cannot pass
    silently. `first_name`/`last_name` may be set to null; other nulls leave the value.
    """

    model_config = ConfigDict(extra="forbid")

    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    email: str | None = Field(default=None, pattern=EMAIL_PATTERN, max_length=254)
    subscribed_for_marketing_emails: bool | None = None
    fields: dict[str, FieldValue] | None = None
    tags: list[str] | None = None
    billing_info: dict[str, str | None] | None = None
    utms: dict[str, str | None] | None = None


def hand_edit(emulator: Emulator, user_key: str, body: HandEdit) -> dict[str, Any]:
    """Apply an admin's UI edit: no sign-up rules and no rate limit (it is not an API call),
    but the same webhooks a UI edit fires: userUpdated, then one tag event per changed tag.

    Guess: the UI refuses an email another user has, with the API's 400.
    """
    with emulator.lock:
        store = emulator.store
        row = store.find_user(user_key)
        if row is None:
            raise LearnWorldsError(404, NOT_FOUND)
        if body.email is not None:
            owner = store.users_by_email.get(body.email.strip().lower())
            if owner is not None and owner != row.id:
                raise LearnWorldsError(400, "The email has already been taken.", "email")
        user = store.user(row.id)
        sent = body.model_fields_set
        for name in ("first_name", "last_name"):
            if name in sent:
                user[name] = getattr(body, name)
        for name in ("username", "email", "subscribed_for_marketing_emails"):
            value = getattr(body, name)
            if value is not None:
                user[name] = value
        if body.fields is not None:
            merge_fields(user, body.fields)
        if body.utms is not None:
            merge_utms(user, body.utms)
        if body.billing_info is not None:
            merge_billing(user, body.billing_info)
        added, removed = replace_tags(user, body.tags) if body.tags is not None else ([], [])
        store.put_user(user)
    user_updated(emulator, user)
    user_tags_changed(emulator, user, added, removed)
    return user


def hand_delete(emulator: Emulator, user_key: str) -> dict[str, Any]:
    """An admin deleting a user in the school's UI. LearnWorlds documents no user-deleted
    webhook, so none fires; afterwards the user answers 404 like an id that never existed.
    """
    with emulator.lock:
        row = emulator.store.find_user(user_key)
        if row is None:
            raise LearnWorldsError(404, NOT_FOUND)
        emulator.store.remove_user(row.id)
    return {"id": row.id, "status": "deleted"}


def _is_write(request: Request) -> bool:
    # The token call is a POST but writes no school records.
    return request.method in {"POST", "PUT", "DELETE"} and request.url.path.startswith(
        f"{API_PREFIX}/v2/"
    )


def _extra_routes(emulator: Emulator) -> APIRouter:
    router = APIRouter()

    @router.post("/activity")
    def activity(body: ActivityRequest) -> dict[str, Any]:
        return generate_activity(
            emulator,
            learners=body.learners,
            events_count=body.events,
            new_users=body.new_users,
            subscription_events=body.subscription_events,
            seed=body.seed,
        )

    @router.get("/webhooks")
    def webhook_log() -> dict[str, Any]:
        dispatcher = emulator.webhooks
        return {
            "url": dispatcher.url,
            "pending": dispatcher.pending(),
            "deliveries": dispatcher.log(),
        }

    @router.post("/webhooks")
    def set_webhook_target(body: WebhookTarget) -> dict[str, Any]:
        emulator.webhooks.url = body.url
        return {"url": body.url}

    @router.post("/webhooks/clear")
    def clear_webhook_log() -> dict[str, Any]:
        emulator.webhooks.clear_log()
        return {"status": "cleared"}

    @router.post("/users/{user_key}/edit")
    def edit_user(user_key: str, body: HandEdit) -> dict[str, Any]:
        return hand_edit(emulator, user_key, body)

    @router.post("/users/{user_key}/delete")
    def delete_user(user_key: str) -> dict[str, Any]:
        return hand_delete(emulator, user_key)

    @router.get("/outbox")
    def outbox() -> dict[str, Any]:
        with emulator.lock:
            return {"emails": list(emulator.store.outbox)}

    @router.post("/outbox/clear")
    def clear_outbox() -> dict[str, Any]:
        with emulator.lock:
            emulator.store.outbox.clear()
        return {"status": "cleared"}

    @router.get("/signup-rules")
    def get_signup_rules() -> dict[str, Any]:
        return emulator.signup_rules.model_dump()

    @router.post("/signup-rules")
    def set_signup_rules(body: SignupRules) -> dict[str, Any]:
        emulator.signup_rules = body
        return body.model_dump()

    return router


def control_hooks(emulator: Emulator) -> ControlHooks:
    def reset() -> None:
        # Swap in a fresh store so readers holding the old one finish consistently.
        with emulator.lock:
            emulator.store = Store()
        emulator.limiter.reset()
        emulator.webhooks.clear_log()
        emulator.signup_rules = emulator.config.signup_rules

    def load(path: Path) -> dict[str, Any]:
        fresh = Store()
        try:
            counts = load_into(fresh, path)
        except (DatasetError, OSError) as exc:
            raise LearnWorldsError(422, str(exc), "path") from None
        with emulator.lock:
            emulator.store = fresh
        return counts

    def state(kind: str | None) -> dict[str, Any]:
        with emulator.lock:
            if kind is None:
                return emulator.store.counts()
            try:
                return {"object": kind, "records": emulator.store.records(kind)}
            except KeyError:
                raise LearnWorldsError(404, NOT_FOUND) from None

    def on_chaos(chaos: Chaos) -> None:
        interval = None if chaos.rate_interval_ms is None else chaos.rate_interval_ms / 1000
        emulator.limiter.configure(chaos.rate_max, interval)
        emulator.tokens.set_ttl(chaos.token_ttl_s)

    def error(status: int) -> Response:
        return server_error_response(status)

    return ControlHooks(
        reset=reset,
        load=load,
        state=state,
        mutate=lambda body: mutate(emulator, body),
        error_response=error,
        rate_limited_response=rate_limited_response,
        is_write=_is_write,
        on_chaos=on_chaos,
        extra_routes=_extra_routes(emulator),
    )
