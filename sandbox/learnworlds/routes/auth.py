"""POST /oauth2/access_token: the client-credentials grant, in all three body encodings."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from sandbox.learnworlds.config import API_PREFIX
from sandbox.learnworlds.context import get_emulator
from sandbox.learnworlds.errors import ACCESS_DENIED, CLIENT_NOT_FOUND, LearnWorldsError
from sandbox.learnworlds.pagination import json_response

router = APIRouter(prefix=API_PREFIX)


async def _credentials(request: Request) -> dict[str, Any]:
    """JSON body, a form field `data=<json>`, or plain form fields: public clients use all."""
    content_type = request.headers.get("content-type", "").lower()
    try:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            if "data" in form:
                parsed = orjson.loads(str(form["data"]))
            else:
                parsed = {key: str(value) for key, value in form.items()}
        else:
            parsed = orjson.loads(await request.body())
    except (orjson.JSONDecodeError, ValueError, AssertionError):
        raise LearnWorldsError(
            400, "The request body could not be parsed.", "invalid_request"
        ) from None
    if not isinstance(parsed, dict):
        raise LearnWorldsError(400, "The request body must be an object.", "invalid_request")
    return parsed


@router.post("/oauth2/access_token")
async def access_token(request: Request) -> Response:
    emulator = get_emulator(request)
    client_id = request.headers.get("lw-client")
    if not emulator.known_client(client_id):
        raise LearnWorldsError(400, CLIENT_NOT_FOUND, "client_id")
    body = await _credentials(request)
    if body.get("grant_type") != "client_credentials":
        raise LearnWorldsError(
            400,
            "The authorization grant type is not supported by the authorization server.",
            "unsupported_grant_type",
        )
    body_client = str(body.get("client_id") or client_id)
    secret = str(body.get("client_secret") or "")
    config = emulator.config
    if body_client != client_id or not secrets.compare_digest(
        secret.encode(), config.client_secret.encode()
    ):
        raise LearnWorldsError(400, ACCESS_DENIED, "access_denied")
    token, ttl = emulator.tokens.issue(str(client_id))
    expires_in: float = int(ttl) if float(ttl).is_integer() else ttl
    return json_response(
        {
            "tokenData": {"access_token": token, "token_type": "Bearer", "expires_in": expires_in},
            "errors": [],
            "success": True,
        }
    )
