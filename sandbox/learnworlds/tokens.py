"""Bearer tokens minted by the client-credentials grant, with the school's lifetime."""

from __future__ import annotations

import secrets
import string
import threading
import time

_ALPHABET = string.ascii_letters + string.digits


class TokenStore:
    """Issued tokens and their expiry; the lifetime is a runtime knob (`Chaos.token_ttl_s`)."""

    def __init__(self, ttl_s: float) -> None:
        self.default_ttl_s = ttl_s
        self.ttl_s = ttl_s
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> tuple[str, float]:
        """A new 40-character token (the length real ones have) and its `expires_in`."""
        token = "".join(secrets.choice(_ALPHABET) for _ in range(40))
        now = time.monotonic()
        with self._lock:
            # Drop expired tokens here so a long benchmark does not grow the table forever.
            if len(self._tokens) > 1000:
                self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (client_id, now + self.ttl_s)
        return token, self.ttl_s

    def valid(self, token: str, client_id: str) -> bool:
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            return False
        owner, expires_at = entry
        return secrets.compare_digest(owner, client_id) and time.monotonic() < expires_at

    def set_ttl(self, ttl_s: float | None) -> None:
        self.ttl_s = self.default_ttl_s if ttl_s is None else ttl_s
