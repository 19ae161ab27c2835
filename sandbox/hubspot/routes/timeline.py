"""`/integrators/timeline/v3`: event templates (developer `hapikey`) and events (OAuth bearer).

See `sandbox/hubspot/timeline.py` for the rules and where each comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from ..clock import now_iso
from ..errors import HubSpotError, batch_item_error, correlation_id, not_found, validation
from ..gateway import GatedRoute, bearer_token, rate_limit_body
from ..state import Portal, portal
from ..store import Record
from ..timeline import (
    DUPLICATE_ID,
    MAX_TEMPLATES_PER_APP,
    PRIVATE_APP_REFUSAL,
    TEMPLATE_OBJECT_TYPES,
    Template,
    TimelineInvalid,
    check_token,
    check_tokens,
    event_id,
    event_timestamp,
    invalid,
    token_value,
)
from ..writes import apply, check_create, check_update
from .common import batch_response, written

PREFIX = "/integrators/timeline/v3"
# Any JSON: shapes are checked here, so errors read like HubSpot's, not like pydantic's.
JsonBody = Annotated[Any, Body()]
_BAD_HAPIKEY = (
    "The API key provided is invalid. View or manage your API key here: "
    "https://app.hubspot.com/l/api-key/"
)
_NO_HAPIKEY = (
    "Authentication credentials not found. Event templates are managed with the developer "
    "account's API key in the hapikey query parameter."
)


def _as_error(exc: TimelineInvalid) -> HubSpotError:
    return HubSpotError(exc.status, exc.category, exc.message, context=exc.context)


class DeveloperKeyRoute(APIRoute):
    """Template routes: the app's developer `hapikey` query parameter, never a bearer token.

    The key is compared, never echoed; the rate limiter counts it under the app id."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def gated(request: Request) -> Response:
            p: Portal = portal(request)
            cid = correlation_id(request)
            key = request.query_params.get("hapikey")
            app_id = str(request.path_params.get("appId", ""))
            expected = p.config.timeline_apps.get(int(app_id)) if app_id.isdigit() else None
            if not key or expected is None or key != expected:
                err = HubSpotError(
                    401, "INVALID_AUTHENTICATION", _BAD_HAPIKEY if key else _NO_HAPIKEY
                )
                return JSONResponse(err.body(cid), status_code=401)
            decision = p.limiter.check(f"developer-app:{app_id}", search=False)
            if not decision.allowed:
                assert decision.policy is not None
                return JSONResponse(rate_limit_body(decision.policy, cid), status_code=429)
            return await handler(request)

        return gated


templates = APIRouter(prefix=PREFIX + "/{appId}/event-templates", route_class=DeveloperKeyRoute)
events = APIRouter(prefix=PREFIX + "/events", route_class=GatedRoute)


# --- templates ---------------------------------------------------------------------------


def _template(p: Portal, app_id: int, template_id: str) -> Template:
    template = p.timeline.templates.get(template_id)
    if template is None or template.app_id != app_id:
        raise not_found(f"Event template {template_id} not found for app {app_id}")
    return template


def _text(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise validation(f"{name} is required and must be a non-empty string")
    return value


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation("Invalid input JSON: the request body must be an object")
    return body


@templates.get("")
def list_templates(request: Request, appId: int) -> dict[str, Any]:
    p = portal(request)
    with p.store.lock:
        return {"results": [t.body() for t in p.timeline.of_app(appId)]}


@templates.post("", status_code=201)
def create_template(request: Request, appId: int, body: JsonBody = None) -> dict[str, Any]:
    p = portal(request)
    body = _object(body)
    name = _text(body, "name", required=True)
    object_type = str(body.get("objectType") or "").lower()
    if object_type not in TEMPLATE_OBJECT_TYPES:
        raise validation(
            f"objectType must be one of {', '.join(TEMPLATE_OBJECT_TYPES)}, "
            f"got {body.get('objectType')!r}"
        )
    try:
        tokens = check_tokens(body.get("tokens"))
    except TimelineInvalid as exc:
        raise _as_error(exc) from None
    with p.store.lock:
        if len(p.timeline.of_app(appId)) >= MAX_TEMPLATES_PER_APP:
            raise validation(
                f"App {appId} already has the maximum of {MAX_TEMPLATES_PER_APP} event templates"
            )
        stamp = now_iso()
        template = Template(
            p.timeline.new_template_id(),
            appId,
            str(name),
            object_type,
            _text(body, "headerTemplate", required=False),
            _text(body, "detailTemplate", required=False),
            tokens,
            stamp,
            stamp,
        )
        p.timeline.templates[template.id] = template
        return template.body()


@templates.get("/{eventTemplateId}")
def get_template(request: Request, appId: int, eventTemplateId: str) -> dict[str, Any]:
    p = portal(request)
    with p.store.lock:
        return _template(p, appId, eventTemplateId).body()


@templates.put("/{eventTemplateId}")
def update_template(
    request: Request, appId: int, eventTemplateId: str, body: JsonBody = None
) -> dict[str, Any]:
    p = portal(request)
    body = _object(body)
    name = _text(body, "name", required=True)
    if str(body.get("id", "")) != eventTemplateId:
        raise validation(f"id in the body must be the template's id {eventTemplateId}")
    try:
        tokens = check_tokens(body.get("tokens"))
    except TimelineInvalid as exc:
        raise _as_error(exc) from None
    with p.store.lock:
        template = _template(p, appId, eventTemplateId)
        old = {t["name"]: t for t in template.tokens}
        for token in tokens:
            previous = old.get(token["name"])
            if previous is not None:
                if previous["type"] != token["type"]:
                    raise validation(f"The type of token {token['name']} cannot be changed")
                token["createdAt"] = previous["createdAt"]
        template.name = str(name)
        template.tokens = tokens
        template.header_template = _text(body, "headerTemplate", required=False)
        template.detail_template = _text(body, "detailTemplate", required=False)
        template.updated_at = now_iso()
        return template.body()


@templates.delete("/{eventTemplateId}", status_code=204)
def delete_template(request: Request, appId: int, eventTemplateId: str) -> Response:
    p = portal(request)
    with p.store.lock:
        _template(p, appId, eventTemplateId)
        del p.timeline.templates[eventTemplateId]
        # HubSpot's guide: deleting a template permanently removes its events.
        for key in [k for k in p.timeline.events if k[0] == eventTemplateId]:
            del p.timeline.events[key]
    return Response(status_code=204)


@templates.post("/{eventTemplateId}/tokens")
def add_token(
    request: Request, appId: int, eventTemplateId: str, body: JsonBody = None
) -> dict[str, Any]:
    p = portal(request)
    try:
        token = check_token(_object(body))
    except TimelineInvalid as exc:
        raise _as_error(exc) from None
    with p.store.lock:
        template = _template(p, appId, eventTemplateId)
        if template.token(token["name"]) is not None:
            raise validation(f"Token {token['name']} already exists on template {template.id}")
        template.tokens.append(token)
        template.updated_at = now_iso()
        return dict(token)


@templates.put("/{eventTemplateId}/tokens/{tokenName}")
def update_token(
    request: Request, appId: int, eventTemplateId: str, tokenName: str, body: JsonBody = None
) -> dict[str, Any]:
    p = portal(request)
    body = _object(body)
    with p.store.lock:
        template = _template(p, appId, eventTemplateId)
        existing = template.token(tokenName)
        if existing is None:
            raise not_found(f"Token {tokenName} not found on template {template.id}")
        try:
            token = check_token(body, existing=existing)
        except TimelineInvalid as exc:
            raise _as_error(exc) from None
        template.tokens = [token if t["name"] == tokenName else t for t in template.tokens]
        template.updated_at = now_iso()
        return dict(token)


@templates.delete("/{eventTemplateId}/tokens/{tokenName}", status_code=204)
def delete_token(request: Request, appId: int, eventTemplateId: str, tokenName: str) -> Response:
    p = portal(request)
    with p.store.lock:
        template = _template(p, appId, eventTemplateId)
        if template.token(tokenName) is None:
            raise not_found(f"Token {tokenName} not found on template {template.id}")
        template.tokens = [t for t in template.tokens if t["name"] != tokenName]
        template.updated_at = now_iso()
    return Response(status_code=204)


# --- events ------------------------------------------------------------------------------


def _require_oauth_app(request: Request) -> None:
    """Private apps cannot send or read custom timeline events (reference section 7)."""
    p = portal(request)
    token = bearer_token(request) or ""
    cfg = p.config
    if token in cfg.private_app_tokens or any(
        token.startswith(prefix) for prefix in cfg.private_app_token_prefixes
    ):
        raise HubSpotError(
            403,
            "MISSING_SCOPES",
            PRIVATE_APP_REFUSAL,
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": ["timeline"]},
                }
            ],
        )


def _resolve(p: Portal, template: Template, raw: dict[str, Any]) -> tuple[Record | None, str]:
    """The record the event goes on (None: a contact to create by email) and a name for it."""
    object_id = raw.get("objectId")
    email = raw.get("email")
    if object_id not in (None, ""):
        rec = p.store.get(template.object_type, str(object_id))
        if rec is None:
            raise TimelineInvalid(
                404,
                "OBJECT_NOT_FOUND",
                f"No {template.object_type} record with objectId {object_id}",
                {"objectId": [str(object_id)]},
            )
        return rec, str(email or object_id)
    if template.object_type == "contacts" and isinstance(email, str) and email.strip():
        return p.store.find_by("contacts", "email", email), email.strip()
    if template.object_type == "contacts" and raw.get("utk"):
        # The emulator has no tracking cookies: no usertoken ever matches a contact.
        raise invalid("No contact matches the utk given; send email or objectId")
    raise invalid(
        f"objectId is required for {template.object_type} events"
        + (
            "; contact events may use email or utk instead"
            if template.object_type == "contacts"
            else ""
        ),
        eventTemplateId=template.id,
    )


def _create_event(p: Portal, raw: Any, pending: set[tuple[str, str]]) -> dict[str, Any]:
    """Validate one event, then store it; TimelineInvalid leaves everything untouched."""
    if not isinstance(raw, dict):
        raise invalid("Each event must be an object")
    template_id = raw.get("eventTemplateId")
    if template_id in (None, ""):
        raise invalid("eventTemplateId is required")
    template = p.timeline.templates.get(str(template_id))
    if template is None or template.app_id not in p.config.timeline_apps:
        raise TimelineInvalid(
            404,
            "OBJECT_NOT_FOUND",
            f"Event template {template_id} not found",
            {"eventTemplateId": [str(template_id)]},
        )
    raw_tokens = raw.get("tokens")
    if raw_tokens is None:
        raw_tokens = {}
    if not isinstance(raw_tokens, dict):
        raise invalid("tokens must be an object of token names to values")
    tokens = {name: token_value(template, name, value) for name, value in raw_tokens.items()}
    timestamp = event_timestamp(raw.get("timestamp"))
    rec, who = _resolve(p, template, raw)
    eid = event_id(raw.get("id"), template.app_id, template.id, who)
    key = (template.id, eid)
    if key in p.timeline.events or key in pending:
        raise invalid(DUPLICATE_ID, id=eid, eventTemplateId=template.id)
    email = raw.get("email")
    if rec is None:
        plan, failure = check_create(p, "contacts", {"email": str(email).strip()})
        if failure is not None:
            raise TimelineInvalid(failure.status, failure.category, failure.message, {})
        assert plan is not None
    elif email and template.object_type == "contacts" and raw.get("objectId"):
        # objectId plus email changes that contact's email (spec, TimelineEvent.email).
        plan, failure = check_update(p, "contacts", rec, {"email": str(email).strip()})
        if failure is not None:
            raise TimelineInvalid(failure.status, failure.category, failure.message, {})
    else:
        plan = None
    pending.add(key)
    if plan is not None:
        rec = apply(p, "contacts", plan)
    assert rec is not None
    # Tokens mapped to a property also set it on the record, when the value is acceptable.
    mapped = {
        t["objectPropertyName"]: tokens[t["name"]]
        for t in template.tokens
        if t.get("objectPropertyName") and t["name"] in tokens
    }
    if mapped:
        update, failure = check_update(p, template.object_type, rec, mapped)
        if update is not None and failure is None:
            apply(p, template.object_type, update)
    event: dict[str, Any] = {
        "objectType": template.object_type,
        "id": eid,
        "eventTemplateId": template.id,
        "objectId": rec.id,
        "timestamp": timestamp,
        "tokens": tokens,
    }
    for name in ("email", "utk", "domain", "extraData", "timelineIFrame"):
        if raw.get(name) is not None:
            event[name] = raw[name]
    p.timeline.events[key] = event
    return event


@events.post("", status_code=201)
def create_event(request: Request, body: JsonBody = None) -> dict[str, Any]:
    _require_oauth_app(request)
    p = portal(request)
    with p.store.lock:
        try:
            event = _create_event(p, _object(body), set())
        except TimelineInvalid as exc:
            raise _as_error(exc) from None
    written(request, 1)
    return event


@events.post("/batch/create")
def create_events(request: Request, body: JsonBody = None) -> Response:
    _require_oauth_app(request)
    p = portal(request)
    started = now_iso()
    inputs = _object(body).get("inputs")
    if not isinstance(inputs, list):
        raise validation("inputs is required and must be a list of events")
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    pending: set[tuple[str, str]] = set()
    with p.store.lock:
        for raw in inputs:
            try:
                results.append(_create_event(p, raw, pending))
            except TimelineInvalid as exc:
                errors.append(batch_item_error(exc.category, exc.message, exc.context))
    written(request, len(results))
    return batch_response(results, errors, started, ok_status=201)


@events.get("/{eventTemplateId}/{eventId}")
def get_event(request: Request, eventTemplateId: str, eventId: str) -> dict[str, Any]:
    _require_oauth_app(request)
    p = portal(request)
    with p.store.lock:
        event = p.timeline.events.get((eventTemplateId, eventId))
        if event is None:
            raise not_found(f"Event {eventId} of template {eventTemplateId} not found")
        return event
