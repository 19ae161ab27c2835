"""LearnWorlds client-credentials token facts, shared by the extract and the write client.

The token call needs `Lw-Client` too and a JSON body; the token is nested under `tokenData`
(not top-level as in RFC 6749) and there is no refresh token, so it is re-minted shortly
before `expires_in` runs out.
"""

from __future__ import annotations

from typing import Any

from lmsbridge_core.errors import AuthenticationError
from lmsbridge_core.http import LEARNWORLDS, Response, error_message

# Re-mint this long before the server-side expiry so an in-flight call never carries a dead token.
EXPIRY_MARGIN_S = 60
TOKEN_PATH = "/oauth2/access_token"


def token_request(client_id: str, client_secret: str) -> dict[str, Any]:
    """Keyword arguments (headers, json) for the token POST."""
    return {
        "headers": {"Lw-Client": client_id, "Content-Type": "application/json"},
        "json": {
            "client_id": client_id,
            "client_secret": client_secret,
            "grant_type": "client_credentials",
        },
    }


def refused(response: Response) -> AuthenticationError | None:
    """The error for a token call LearnWorlds refused (bad client id or secret), else None.

    A wrong client id or secret gets 400 access_denied; the body names the reason but never
    echoes our secret."""
    if response.status_code not in (400, 401, 403):
        return None
    return AuthenticationError(
        f"LearnWorlds token request refused: HTTP {response.status_code}: "
        f"{error_message(response, 160)} ({LEARNWORLDS.credentials_hint})",
        api=LEARNWORLDS.name,
        status=response.status_code,
    )


def access_token(body: Any) -> str | None:
    data = body.get("tokenData") if isinstance(body, dict) else None
    token = data.get("access_token") if isinstance(data, dict) else None
    return str(token) if token else None


def lifetime_s(body: Any, default_s: int) -> int:
    """Seconds to use the token for: its `expires_in` less a safety margin."""
    data = body.get("tokenData") if isinstance(body, dict) else None
    expires_in = data.get("expires_in") if isinstance(data, dict) else None
    seconds = int(expires_in) if expires_in else default_s
    return max(1, seconds - min(EXPIRY_MARGIN_S, seconds // 2))
