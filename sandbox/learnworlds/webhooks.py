"""Webhook delivery: the school POSTs v2 event envelopes to the configured URL.

The header `Learnworlds-Webhook-Signature: v1=<value>` carries the pre-shared secret itself:
LearnWorlds documents it as a value to compare with the one shown in the dashboard, not as an
HMAC of the body (reference notes section 4), so that is what we send.
Deliveries run on one background thread, in order, with a few retries on failure; every
attempt outcome is kept in a log that `GET /_sandbox/webhooks` returns.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import orjson

SIGNATURE_HEADER = "Learnworlds-Webhook-Signature"
_BACKOFF_S = (0.2, 0.5, 1.0, 2.0)
_LOG_LIMIT = 20_000


@dataclass
class Delivery:
    id: int
    type: str
    trigger: str
    url: str
    payload: dict[str, Any]
    queued_at: float = field(default_factory=time.time)
    attempts: int = 0
    status_code: int | None = None
    delivered: bool = False
    error: str | None = None
    done: bool = False


class WebhookDispatcher:
    """Queues envelopes and delivers them from a daemon thread."""

    def __init__(
        self, url: str | None, secret: str, school_id: str, retries: int, timeout_s: float
    ) -> None:
        self.url = url
        self._secret = secret
        self.school_id = school_id
        self.retries = retries
        self.timeout_s = timeout_s
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._log: list[Delivery] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next_id = 1

    def emit(self, type_: str, trigger: str, data: dict[str, Any]) -> Delivery | None:
        """Queue one event; nothing is sent (or logged) while no URL is configured."""
        url = self.url
        if not url:
            return None
        payload = {
            "version": 2,
            "type": type_,
            "trigger": trigger,
            "school_id": self.school_id,
            "data": data,
        }
        with self._lock:
            delivery = Delivery(self._next_id, type_, trigger, url, payload)
            self._next_id += 1
            self._log.append(delivery)
            if len(self._log) > _LOG_LIMIT:
                # Long benchmarks generate activity for hours; keep the log bounded.
                done = [d for d in self._log[: len(self._log) - _LOG_LIMIT] if d.done]
                drop = {id(d) for d in done}
                self._log = [d for d in self._log if id(d) not in drop]
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="lw-webhooks", daemon=True)
                self._thread.start()
        self._queue.put(delivery)
        return delivery

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(d) for d in self._log]

    def pending(self) -> int:
        with self._lock:
            return sum(1 for d in self._log if not d.done)

    def clear_log(self) -> None:
        with self._lock:
            self._log = [d for d in self._log if not d.done]

    def stop(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=self.timeout_s * 2)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout_s) as client:
            while True:
                delivery = self._queue.get()
                if delivery is None:
                    return
                self._deliver(client, delivery)

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        body = orjson.dumps(delivery.payload)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: f"v1={self._secret}"}
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(_BACKOFF_S[min(attempt - 1, len(_BACKOFF_S) - 1)])
            status: int | None = None
            error: str | None = None
            try:
                status = client.post(delivery.url, content=body, headers=headers).status_code
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            ok = status is not None and 200 <= status < 300
            with self._lock:
                delivery.attempts = attempt + 1
                delivery.status_code = status
                delivery.error = None if ok else (error or f"HTTP {status}")
                delivery.delivered = ok
                delivery.done = ok or attempt == self.retries
            if ok:
                return
