"""What the HubSpot emulator plugs into the shared `/_sandbox/` control plane."""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.control import Chaos, ControlHooks

from .clock import now_ms
from .dataset import DatasetError, load_into
from .errors import HubSpotError
from .gateway import rate_limit_body
from .objecttypes import OBJECT_TYPES
from .render import render
from .state import Portal

MUTATED_TYPES = ("contacts", "companies", "deals")
# Which property a mutation edits, so changes are visible to incremental extracts.
_MUTATE_PROPERTY = {"contacts": "firstname", "companies": "name", "deals": "dealname"}
_READ_ONLY_POSTS = ("/search", "/batch/read")


class TouchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    object: str = "contacts"
    count: int = Field(ge=0)
    timestamp_ms: int | None = None


class AuthBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tokens: list[str] | None = None
    scopes: list[str] | None = None


class EditBody(BaseModel):
    """A person's edit in HubSpot's UI: values as the UI would save them ("" clears)."""

    model_config = ConfigDict(extra="forbid")
    properties: dict[str, str]
    user_id: int = 1


class MutateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fraction: float = Field(0.01, ge=0, le=1)
    seed: int | None = None


def _state(p: Portal, object_type: str | None) -> dict[str, Any]:
    store = p.store
    with store.lock:
        if object_type is None:
            counts = {
                name: sum(1 for r in t.records.values() if not r.archived)
                for name, t in store.tables.items()
            }
            counts["archived"] = sum(
                1 for t in store.tables.values() for r in t.records.values() if r.archived
            )
            counts["owners"] = len(store.owners)
            counts["associations"] = sum(
                len(ids) for by_type in store.assoc.edges.values() for ids in by_type.values()
            )
            return {"counts": counts}
        if object_type == "owners":
            return {"object": "owners", "records": list(store.owners.values())}
        if object_type in ("timeline_events", "timeline_templates"):
            # Every timeline event (each names its objectType and objectId) or template.
            kind = object_type.removeprefix("timeline_")
            return {"object": object_type, "records": p.timeline.snapshot()[kind]}
        if object_type not in OBJECT_TYPES:
            raise HubSpotError(400, "VALIDATION_ERROR", f"unknown object type {object_type}")
        table = store.tables[object_type]
        records = []
        for rec in table.records.values():
            item = render(store, object_type, rec, list(rec.props))
            records.append(item)
        return {"object": object_type, "records": records}


def _mutate(p: Portal, body: dict[str, Any]) -> dict[str, Any]:
    try:
        req = MutateBody.model_validate(body)
    except ValidationError as exc:
        raise HubSpotError(400, "VALIDATION_ERROR", f"invalid mutate body: {exc}") from exc
    rng = random.Random(req.seed)
    store = p.store
    changed: dict[str, list[str]] = {}
    with store.lock:
        for object_type in MUTATED_TYPES:
            live = sorted(
                (r for r in store.tables[object_type].records.values() if not r.archived),
                key=lambda r: int(r.id),
            )
            count = round(len(live) * req.fraction)
            picked = rng.sample(live, count) if count else []
            name = _MUTATE_PROPERTY[object_type]
            for rec in picked:
                value = f"{rec.props.get(name, '').split(' #')[0]} #{rng.randint(1, 999_999)}"
                # A mutation stands for a user's edit in HubSpot's UI.
                store.update(object_type, rec, {name: value.strip()}, ("CRM_UI", "userId:1"))
            changed[object_type] = sorted((r.id for r in picked), key=int)
    return {"changed": changed, "counts": {k: len(v) for k, v in changed.items()}}


def _extra_routes(p: Portal) -> APIRouter:
    router = APIRouter()

    @router.post("/touch")
    def touch(body: TouchBody) -> dict[str, Any]:
        object_type = body.object
        if object_type not in OBJECT_TYPES:
            raise HubSpotError(400, "VALIDATION_ERROR", f"unknown object type {object_type}")
        stamp = body.timestamp_ms if body.timestamp_ms is not None else now_ms()
        store = p.store
        with store.lock:
            live = sorted(
                (r for r in store.tables[object_type].records.values() if not r.archived),
                key=lambda r: int(r.id),
            )[: body.count]
            for rec in live:
                store.set_modified(object_type, rec, stamp)
        return {"object": object_type, "touched": len(live), "timestamp_ms": stamp}

    @router.post("/objects/{object_type}/{object_id}/edit")
    def edit(object_type: str, object_id: str, body: EditBody) -> dict[str, Any]:
        """Edit a record as a person would (sourceType CRM_UI in its property history)."""
        if object_type not in OBJECT_TYPES:
            raise HubSpotError(400, "VALIDATION_ERROR", f"unknown object type {object_type}")
        store = p.store
        with store.lock:
            rec = store.tables[object_type].records.get(object_id)
            if rec is None or rec.archived:
                raise HubSpotError(404, "OBJECT_NOT_FOUND", f"no live {object_type} {object_id}")
            clean = {k: v.strip() for k, v in body.properties.items()}
            store.update(object_type, rec, clean, ("CRM_UI", f"userId:{body.user_id}"))
            return render(store, object_type, rec, list(clean))

    @router.post("/auth")
    def auth(body: AuthBody) -> dict[str, Any]:
        p.tokens = list(body.tokens) if body.tokens is not None else None
        p.scopes = set(body.scopes) if body.scopes is not None else None
        return {"tokens": len(p.tokens) if p.tokens is not None else None, "scopes": body.scopes}

    return router


def _error_response(status: int) -> Response:
    body = HubSpotError(status, "INTERNAL_ERROR", "internal error").body(str(uuid.uuid4()))
    return JSONResponse(body, status_code=status)


def _rate_limited() -> Response:
    return JSONResponse(rate_limit_body("TEN_SECONDLY_ROLLING", str(uuid.uuid4())), status_code=429)


def _is_write(request: Request) -> bool:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    path = request.url.path.rstrip("/")
    return not (request.method == "POST" and path.endswith(_READ_ONLY_POSTS))


def _on_chaos(p: Portal, chaos: Chaos) -> None:
    cfg = p.config
    p.limiter.configure(
        chaos.rate_max if chaos.rate_max is not None else cfg.rate_max,
        chaos.rate_interval_ms if chaos.rate_interval_ms is not None else cfg.rate_interval_ms,
        chaos.daily_limit if chaos.daily_limit is not None else cfg.daily_limit,
    )
    lag = chaos.search_index_lag_ms
    p.store.index_lag_ms = lag if lag is not None else cfg.search_index_lag_ms
    # Private-app tokens do not expire, so token_ttl_s has nothing to act on here.


def _load(p: Portal, path: Path) -> dict[str, int]:
    try:
        counts = load_into(p, path)
    except DatasetError as exc:
        raise HubSpotError(400, "VALIDATION_ERROR", str(exc)) from exc
    p.limiter.reset()
    return counts


def make_hooks(p: Portal) -> ControlHooks:
    return ControlHooks(
        reset=p.reset,
        load=lambda path: _load(p, path),
        state=lambda object_type: _state(p, object_type),
        mutate=lambda body: _mutate(p, body),
        error_response=_error_response,
        rate_limited_response=_rate_limited,
        is_write=_is_write,
        on_chaos=lambda chaos: _on_chaos(p, chaos),
        extra_routes=_extra_routes(p),
    )
