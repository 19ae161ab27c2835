"""Send one planned batch and learn, input by input, what HubSpot confirmed.

Results come back in no particular order, so they are matched by objectWriteTraceId (or
id / idProperty value), never by position. A batch refused as a whole (400 with no per-input
detail, as HubSpot does for contact upserts by email) is bisected until the bad rows stand
alone, so every valid row still lands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reverse_etl.client import ApiResponse, HubSpotClient
from reverse_etl.plan import Write


@dataclass
class BatchOutcome:
    """Keyed by trace id (a Write's first record key)."""

    confirmed: dict[str, str] = field(default_factory=dict)  # trace -> hubspot id
    rejected: dict[str, tuple[str, str]] = field(default_factory=dict)  # trace -> (category, msg)
    calls: int = 0
    new: dict[str, bool] = field(default_factory=dict)

    def merge(self, other: BatchOutcome) -> None:
        self.confirmed.update(other.confirmed)
        self.rejected.update(other.rejected)
        self.new.update(other.new)
        self.calls += other.calls


def error_reason(body: Any) -> tuple[str, str]:
    """(category, message) from a HubSpot error body, parsed defensively (all fields optional)."""
    if not isinstance(body, dict):
        return "HTTP_ERROR", str(body)[:500]
    details = body.get("errors") or []
    code = None
    if details and isinstance(details[0], dict):
        code = details[0].get("code")
    category = code or body.get("subCategory") or body.get("category") or "HTTP_ERROR"
    messages = [d.get("message") for d in details if isinstance(d, dict) and d.get("message")]
    message = "; ".join(messages) if messages else str(body.get("message", ""))
    return str(category), message[:2000]


def _input(write: Write) -> dict[str, Any]:
    item: dict[str, Any] = {"properties": write.properties, "objectWriteTraceId": write.trace_id}
    item["id"] = write.target
    if write.id_property:
        item["idProperty"] = write.id_property
    return item


def _norm(write: Write, value: str) -> str:
    return value.lower() if write.id_property == "email" else value


def _map_results(writes: list[Write], body: Any) -> BatchOutcome:
    outcome = BatchOutcome()
    by_trace = {w.trace_id: w for w in writes}
    by_target = {_norm(w, w.target): w for w in writes}
    body = body if isinstance(body, dict) else {}
    for result in body.get("results") or []:
        write = by_trace.get(str(result.get("objectWriteTraceId")))
        if write is None:
            props = result.get("properties") or {}
            for w in writes:
                key = props.get(w.id_property) if w.id_property else result.get("id")
                if key is not None and _norm(w, str(key)) == _norm(w, w.target):
                    write = w
                    break
        if write is None or "id" not in result:
            continue
        outcome.confirmed[write.trace_id] = str(result["id"])
        if "new" in result:
            outcome.new[write.trace_id] = bool(result["new"])
    for error in body.get("errors") or []:
        context = error.get("context") or {} if isinstance(error, dict) else {}
        category, message = error_reason(error)
        hits = [by_trace.get(str(t)) for t in context.get("objectWriteTraceId") or []]
        hits += [by_target.get(str(i)) for i in context.get("ids") or []]
        hits += [by_target.get(str(i).lower()) for i in context.get("ids") or []]
        for write in hits:
            if write is not None and write.trace_id not in outcome.confirmed:
                outcome.rejected[write.trace_id] = (category, message)
    for write in writes:
        if write.trace_id not in outcome.confirmed and write.trace_id not in outcome.rejected:
            # Seen live: merged records drop out of results silently. Not confirmed means
            # it is retried next run, which is the safe side.
            outcome.rejected[write.trace_id] = (
                "UNCONFIRMED",
                "HubSpot returned neither a result nor an error for this input",
            )
    return outcome


def _bisect(
    items: list[Any],
    send: Callable[[list[Any]], ApiResponse],
    on_ok: Callable[[list[Any], ApiResponse], BatchOutcome],
    trace: Callable[[Any], str],
) -> BatchOutcome:
    response = send(items)
    if response.ok:
        outcome = on_ok(items, response)
        outcome.calls += 1
        return outcome
    whole_batch_refusal = 400 <= response.status < 500 and response.status not in (404, 405)
    if whole_batch_refusal and len(items) > 1:
        middle = len(items) // 2
        outcome = BatchOutcome(calls=1)
        outcome.merge(_bisect(items[:middle], send, on_ok, trace))
        outcome.merge(_bisect(items[middle:], send, on_ok, trace))
        return outcome
    category, message = error_reason(response.body)
    outcome = BatchOutcome(calls=1)
    for item in items:
        outcome.rejected[trace(item)] = (category, f"HTTP {response.status}: {message}")
    return outcome


def archive_batch(client: HubSpotClient, object_type: str, writes: list[Write]) -> BatchOutcome:
    """batch/archive: 204 confirms every input (HubSpot reports no per-input result)."""

    def confirm_all(ws: list[Write], _response: ApiResponse) -> BatchOutcome:
        return BatchOutcome(confirmed={w.trace_id: w.target for w in ws})

    return _bisect(
        writes,
        lambda ws: client.batch_archive(object_type, [w.target for w in ws]),
        confirm_all,
        lambda w: w.trace_id,
    )


def write_batch(client: HubSpotClient, object_type: str, writes: list[Write]) -> BatchOutcome:
    """batch/update or batch/upsert one planned batch (all writes share a kind)."""
    kind = writes[0].kind
    if kind == "archive":
        return archive_batch(client, object_type, writes)
    return _bisect(
        writes,
        lambda ws: client.batch_write(object_type, kind, [_input(w) for w in ws]),
        lambda ws, response: _map_results(ws, response.body),
        lambda w: w.trace_id,
    )


def _map_associations(pairs: list[tuple[str, str, str, int, str]], body: Any) -> BatchOutcome:
    outcome = BatchOutcome()
    body = body if isinstance(body, dict) else {}
    failed: dict[str, tuple[str, str]] = {}
    by_from: dict[str, list[str]] = {}
    for trace, from_id, *_ in pairs:
        by_from.setdefault(from_id, []).append(trace)
    for error in body.get("errors") or []:
        if not isinstance(error, dict):
            continue
        reason = error_reason(error)
        for values in (error.get("context") or {}).values():
            for value in values if isinstance(values, list) else [values]:
                for trace in by_from.get(str(value), []):
                    failed[trace] = reason
    for trace, from_id, *_ in pairs:
        if trace in failed:
            outcome.rejected[trace] = failed[trace]
        else:
            outcome.confirmed[trace] = from_id
    return outcome


def associate(
    client: HubSpotClient, object_type: str, pairs: list[tuple[str, str, str, int, str]]
) -> BatchOutcome:
    """v4 batch/create for (trace, from_id, to_id, type_id, category) pairs of one target type.

    Creating an association that already exists succeeds, so re-sending after a crash is safe.
    """

    def send(items: list[tuple[str, str, str, int, str]], to_type: str) -> ApiResponse:
        inputs = [
            {
                "from": {"id": from_id},
                "to": {"id": to_id},
                "types": [{"associationCategory": category, "associationTypeId": type_id}],
            }
            for _, from_id, to_id, type_id, category in items
        ]
        return client.batch_associate(object_type, to_type, inputs)

    outcome = BatchOutcome()
    by_type: dict[str, list[tuple[str, str, str, int, str]]] = {}
    for pair in pairs:
        by_type.setdefault(pair[0].split("|", 1)[0], []).append(pair)
    for key, items in by_type.items():
        to_type = key
        stripped = [(t.split("|", 1)[1], f, to, ty, c) for t, f, to, ty, c in items]
        outcome.merge(
            _bisect(
                stripped,
                lambda xs, tt=to_type: send(xs, tt),
                lambda xs, response: _map_associations(xs, response.body),
                lambda x: x[0],
            )
        )
    return outcome


def send_writes(client: HubSpotClient, object_type: str, writes: list[Write]) -> BatchOutcome:
    """Write one batch, then associate the records that need it; a write counts as confirmed
    only when its associations are confirmed too (else the next run repeats both)."""
    outcome = write_batch(client, object_type, writes)
    pairs = []
    for write in writes:
        hubspot_id = outcome.confirmed.get(write.trace_id)
        if hubspot_id is None:
            continue
        for to_type, to_id, type_id, category in write.associate:
            pairs.append((f"{to_type}|{write.trace_id}", hubspot_id, to_id, type_id, category))
    if not pairs:
        return outcome
    linked = associate(client, object_type, pairs)
    outcome.calls += linked.calls
    for trace, reason in linked.rejected.items():
        outcome.confirmed.pop(trace, None)
        outcome.rejected[trace] = (reason[0], f"association failed: {reason[1]}")
    return outcome
