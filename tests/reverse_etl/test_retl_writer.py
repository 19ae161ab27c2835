"""Writer logic against a scripted HubSpot transport (the real emulator tests are separate)."""

import json
import random
from typing import Any

import httpx

from lmsbridge_core.http import HUBSPOT, HttpPolicy, Pacer
from reverse_etl.client import HubSpotClient
from reverse_etl.plan import Write
from reverse_etl.writer import send_writes, write_batch


def write(
    key: str, target: str, kind: str = "update", value: str = "1", id_property: str | None = None
) -> Write:
    return Write(
        kind=kind,
        action="update",
        target=target,
        id_property=id_property,  # type: ignore[arg-type]
        properties={"lms_touch_count": value},
        record_keys=[key],
        hashes={key: "h"},
        confirmed={key: {"lms_touch_count": value}},
    )


class Scripted:
    """Answers like HubSpot: 207 with per-trace errors when every input has a trace id and
    `partial` is on, else a whole-batch 400; results shuffled."""

    def __init__(self, partial: bool) -> None:
        self.partial = partial
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        body = json.loads(request.content)
        if "/crm/v4/" in request.url.path:
            return httpx.Response(201, json={"status": "COMPLETE", "results": []})
        bad = [i for i in body["inputs"] if i["properties"].get("lms_touch_count") == "bad"]
        if bad and not self.partial:
            return httpx.Response(
                400,
                json={
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "Property values were not valid",
                    "errors": [
                        {"code": "INVALID_INTEGER", "message": "bad was not a valid number."}
                    ],
                },
            )
        results = [
            {
                "id": i["id"] if "idProperty" not in i else f"id-{i['id']}",
                "properties": {},
                "objectWriteTraceId": None,
            }
            for i in body["inputs"]
            if i not in bad
        ]
        if "upsert" in request.url.path:
            for r, i in zip(results, [i for i in body["inputs"] if i not in bad], strict=True):
                r["properties"][i["idProperty"]] = (
                    i["id"].upper() if i["idProperty"] == "email" else i["id"]
                )
                r["new"] = True
        random.Random(1).shuffle(results)
        if not bad:
            return httpx.Response(200, json={"status": "COMPLETE", "results": results})
        errors = [
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": "bad was not a valid number.",
                "context": {"objectWriteTraceId": [i["objectWriteTraceId"]]},
            }
            for i in bad
        ]
        return httpx.Response(
            207,
            json={
                "status": "COMPLETE",
                "results": results,
                "numErrors": len(errors),
                "errors": errors,
            },
        )


def client(handler: Any) -> HubSpotClient:
    return HubSpotClient(
        "http://hubspot.test",
        "pat-na1-unit",
        transport=httpx.MockTransport(handler),
        policy=HttpPolicy(HUBSPOT, Pacer(10_000, 1.0)),
    )


def test_207_results_are_mapped_by_trace_or_id_not_position() -> None:
    handler = Scripted(partial=True)
    writes = [write(f"k{i}", str(i), value="bad" if i in (3, 40) else "1") for i in range(100)]
    outcome = write_batch(client(handler), "deals", writes)
    assert len(handler.calls) == 1
    assert set(outcome.rejected) == {"k3", "k40"}
    assert outcome.confirmed == {f"k{i}": str(i) for i in range(100) if i not in (3, 40)}
    assert outcome.rejected["k3"][0] == "VALIDATION_ERROR"


def test_whole_batch_400_is_bisected_until_bad_rows_stand_alone() -> None:
    handler = Scripted(partial=False)
    writes = [
        write(
            f"k{i}",
            f"u{i}@x.com",
            kind="upsert",
            id_property="email",
            value="bad" if i == 57 else "1",
        )
        for i in range(100)
    ]
    outcome = write_batch(client(handler), "contacts", writes)
    assert set(outcome.rejected) == {"k57"}
    assert outcome.rejected["k57"][0] == "INVALID_INTEGER"
    # Matched on the lowercased idProperty value even though HubSpot echoed it changed.
    assert outcome.confirmed["k0"] == "id-u0@x.com"
    assert len(outcome.confirmed) == 99
    # One failing call per level down to the single bad row, plus its healthy siblings.
    assert len(handler.calls) == outcome.calls <= 2 * 7 + 1


def test_confirmed_writes_are_associated_once_per_batch() -> None:
    handler = Scripted(partial=True)
    writes = [write(f"k{i}", f"t{i}", kind="upsert", id_property="lms_task_key") for i in range(3)]
    for w in writes:
        w.associate = [("contacts", "9", 204, "HUBSPOT_DEFINED")]
    outcome = send_writes(client(handler), "tasks", writes)
    assert handler.calls == [
        "/crm/v3/objects/tasks/batch/upsert",
        "/crm/v4/associations/tasks/contacts/batch/create",
    ]
    assert len(outcome.confirmed) == 3 and outcome.calls == 2


def test_failed_association_leaves_the_write_unconfirmed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if "/crm/v4/" in request.url.path:
            errors = [
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": "no such contact",
                    "context": {"fromObjectId": [body["inputs"][0]["from"]["id"]]},
                }
            ]
            return httpx.Response(207, json={"status": "COMPLETE", "results": [], "errors": errors})
        return httpx.Response(
            200,
            json={
                "status": "COMPLETE",
                "results": [
                    {"id": f"id-{i['id']}", "properties": {"lms_task_key": i["id"]}, "new": True}
                    for i in body["inputs"]
                ],
            },
        )

    writes = [write(f"k{i}", f"t{i}", kind="upsert", id_property="lms_task_key") for i in range(2)]
    for w in writes:
        w.associate = [("contacts", "9", 204, "HUBSPOT_DEFINED")]
    outcome = send_writes(client(handler), "tasks", writes)
    assert set(outcome.confirmed) == {"k1"}
    assert "association failed" in outcome.rejected["k0"][1]
