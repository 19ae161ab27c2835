"""`/crm/v3/owners` (read-only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ..errors import not_found, validation
from ..gateway import GatedRoute, require_scopes
from ..state import portal

router = APIRouter(prefix="/crm/v3/owners", route_class=GatedRoute)
MAX_LIMIT = 500


@router.get("")
@router.get("/")
def list_owners(
    request: Request,
    limit: int = 100,
    after: str | None = None,
    email: str | None = None,
    archived: bool = False,
) -> dict[str, Any]:
    require_scopes(request, "crm.objects.owners.read")
    if limit < 1 or limit > MAX_LIMIT:
        raise validation(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    p = portal(request)
    with p.store.lock:
        owners = sorted(p.store.owners.values(), key=lambda o: int(o["id"]))
    owners = [o for o in owners if bool(o.get("archived")) == archived]
    if email:
        owners = [o for o in owners if (o.get("email") or "").lower() == email.strip().lower()]
    start = 0
    if after:
        if not after.isdigit():
            raise validation(f"Invalid paging cursor after={after!r}")
        start = next((i for i, o in enumerate(owners) if int(o["id"]) >= int(after)), len(owners))
    page = owners[start : start + limit]
    body: dict[str, Any] = {"results": page}
    if start + limit < len(owners):
        nxt = owners[start + limit]["id"]
        link = request.url.include_query_params(after=nxt, limit=limit)
        body["paging"] = {"next": {"after": nxt, "link": str(link)}}
    return body


@router.get("/{owner_id}")
def get_owner(
    request: Request, owner_id: str, idProperty: str = "id", archived: bool = False
) -> dict[str, Any]:
    require_scopes(request, "crm.objects.owners.read")
    if idProperty not in ("id", "userId"):
        raise validation(f"idProperty must be id or userId, got {idProperty}")
    p = portal(request)
    with p.store.lock:
        for owner in p.store.owners.values():
            key = str(owner.get(idProperty))
            if key == owner_id and bool(owner.get("archived")) == archived:
                return owner
    raise not_found()
