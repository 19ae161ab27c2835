"""Batch read/create/update/upsert/archive and HubSpot's 200/201/207/400/409 rules."""

from __future__ import annotations

from typing import Any

from tests.sandbox.hubspot_support import N_CONTACTS, Api

LIMIT_MESSAGE = (
    "The maximum number of inputs supported in a batch is 100. Please reduce the number of "
    "items and try again"
)


def batch(hs: Api, op: str, body: dict[str, Any], object_type: str = "contacts") -> Any:
    return hs.post(f"/crm/v3/objects/{object_type}/batch/{op}", json=body)


def count(hs: Api, object_type: str = "contacts") -> int:
    return hs.get("/_sandbox/state").json()["counts"][object_type]


def make_unique_prop(hs: Api, object_type: str, name: str) -> None:
    group = {"contacts": "contactinformation", "tasks": "task", "notes": "note"}[object_type]
    prop = {
        "name": name,
        "label": name,
        "type": "string",
        "fieldType": "text",
        "groupName": group,
        "hasUniqueValue": True,
    }
    assert hs.post(f"/crm/v3/properties/{object_type}", json=prop).status_code == 201


def test_101_inputs_is_400_with_hubspots_message(hs: Api) -> None:
    for op, inp in [
        ("read", {"id": "1"}),
        ("create", {"properties": {}}),
        ("update", {"id": "1", "properties": {}}),
        ("archive", {"id": "1"}),
    ]:
        inputs = [dict(inp, id=str(i)) if "id" in inp else inp for i in range(101)]
        resp = batch(hs, op, {"inputs": inputs})
        assert resp.status_code == 400, op
        assert resp.json()["message"] == LIMIT_MESSAGE
        assert resp.json()["category"] == "VALIDATION_ERROR"


def test_read_reports_unknown_ids_as_207(hs: Api) -> None:
    resp = batch(
        hs,
        "read",
        {"inputs": [{"id": "1005"}, {"id": "999999"}, {"id": "1001"}], "properties": ["email"]},
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [r["id"] for r in body["results"]] == ["1001", "1005"]  # sorted, not input order
    assert body["numErrors"] == 1
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["ids"] == ["999999"]


def test_read_by_email_and_duplicates_case_insensitive(hs: Api) -> None:
    ok = batch(hs, "read", {"idProperty": "email", "inputs": [{"id": "PERSON4@example.com"}]})
    assert ok.status_code == 200 and ok.json()["results"][0]["id"] == "1004"
    dup = batch(
        hs, "read", {"idProperty": "email", "inputs": [{"id": "a@x.com"}, {"id": "A@X.com"}]}
    )
    assert dup.status_code == 400


def test_body_without_inputs_is_a_silent_no_op(hs: Api) -> None:
    before = count(hs)
    for op in ("read", "create", "update", "upsert"):
        body: dict[str, Any] = {"properties": ["email"] if op == "read" else {"firstname": "x"}}
        resp = batch(hs, op, body)
        assert resp.status_code == 200
        assert resp.json()["status"] == "COMPLETE" and resp.json()["results"] == []
    assert count(hs) == before


def test_create_is_201_and_update_is_200(hs: Api) -> None:
    created = batch(
        hs, "create", {"inputs": [{"properties": {"email": f"b{i}@x.com"}} for i in range(3)]}
    )
    assert created.status_code == 201
    new_ids = [r["id"] for r in created.json()["results"]]
    assert new_ids == sorted(new_ids, key=int) and count(hs) == N_CONTACTS + 3
    updated = batch(
        hs, "update", {"inputs": [{"id": i, "properties": {"firstname": "U"}} for i in new_ids]}
    )
    assert updated.status_code == 200
    assert all(r["properties"].get("hs_object_id") for r in updated.json()["results"])
    assert hs.calls()["records_written"] == 6


def test_duplicate_ids_reject_the_whole_batch(hs: Api) -> None:
    resp = batch(
        hs,
        "update",
        {
            "inputs": [
                {"id": "1001", "properties": {"firstname": "A"}},
                {"id": "1001", "properties": {"firstname": "B"}},
                {"id": "1002", "properties": {"firstname": "C"}},
            ]
        },
    )
    assert resp.status_code == 400
    body = resp.json()
    assert body["message"] == "Duplicate IDs found in batch input: [1001]. IDs must be unique"
    assert body["context"]["ids"] == ["1001"]
    name = hs.get("/crm/v3/objects/contacts/1002", params={"properties": "firstname"}).json()
    assert name["properties"]["firstname"] == "First2"


def test_update_unknown_ids_is_207_and_others_succeed(hs: Api) -> None:
    resp = batch(
        hs,
        "update",
        {
            "inputs": [
                {"id": "1001", "properties": {"firstname": "A"}},
                {"id": "404040", "properties": {"firstname": "B"}},
            ]
        },
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [r["id"] for r in body["results"]] == ["1001"]
    assert body["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert body["errors"][0]["context"]["ids"] == ["404040"]


def test_validation_is_all_or_nothing_without_trace_ids(hs: Api) -> None:
    resp = batch(
        hs,
        "update",
        {
            "inputs": [
                {"id": "1001", "properties": {"firstname": "Good"}},
                {"id": "1002", "properties": {"no_such_prop": "x"}},
            ]
        },
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "PROPERTY_DOESNT_EXIST"
    first = hs.get("/crm/v3/objects/contacts/1001", params={"properties": "firstname"}).json()
    assert first["properties"]["firstname"] == "First1"


def test_trace_ids_give_207_and_write_the_valid_inputs(hs: Api) -> None:
    resp = batch(
        hs,
        "create",
        {
            "inputs": [
                {"properties": {"email": "ok@x.com"}, "objectWriteTraceId": "t-ok"},
                {
                    "properties": {"email": "bad@x.com", "lifecyclestage": "nonsense"},
                    "objectWriteTraceId": "t-bad",
                },
            ]
        },
    )
    assert resp.status_code == 207
    body = resp.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["t-ok"]
    err = body["errors"][0]
    assert err["context"]["objectWriteTraceId"] == ["t-bad"]
    assert err["errors"][0]["code"] == "INVALID_OPTION"
    assert count(hs) == N_CONTACTS + 1


def test_trace_ids_on_only_some_inputs_stay_all_or_nothing(hs: Api) -> None:
    resp = batch(
        hs,
        "create",
        {
            "inputs": [
                {"properties": {"email": "ok@x.com"}, "objectWriteTraceId": "t-ok"},
                {"properties": {"email": "not-an-email"}},
            ]
        },
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["code"] == "INVALID_EMAIL"
    assert count(hs) == N_CONTACTS


def test_create_with_existing_email_is_409(hs: Api) -> None:
    resp = batch(
        hs,
        "create",
        {
            "inputs": [
                {"properties": {"email": "fresh@x.com"}},
                {"properties": {"email": "PERSON7@example.com"}},
            ]
        },
    )
    assert resp.status_code == 409
    assert resp.json()["category"] == "CONFLICT"
    assert resp.json()["message"] == "Contact already exists. Existing ID: 1007"
    assert count(hs) == N_CONTACTS


def test_upsert_by_email_creates_and_updates_with_new_flag(hs: Api) -> None:
    resp = batch(
        hs,
        "upsert",
        {
            "inputs": [
                {
                    "id": "Person9@Example.com",
                    "idProperty": "email",
                    "properties": {"firstname": "Nine"},
                },
                {
                    "id": "brand.new@x.com",
                    "idProperty": "email",
                    "properties": {"firstname": "New"},
                },
            ]
        },
    )
    assert resp.status_code == 200
    results = {r["id"]: r for r in resp.json()["results"]}
    assert results["1009"]["new"] is False
    created = [r for r in results.values() if r["new"]]
    assert len(created) == 1
    got = hs.get(
        f"/crm/v3/objects/contacts/{created[0]['id']}", params={"properties": "email"}
    ).json()
    assert got["properties"]["email"] == "brand.new@x.com"


def test_upsert_by_email_has_no_partial_results(hs: Api) -> None:
    resp = batch(
        hs,
        "upsert",
        {
            "inputs": [
                {
                    "id": "person1@example.com",
                    "idProperty": "email",
                    "properties": {"firstname": "A"},
                    "objectWriteTraceId": "1",
                },
                {
                    "id": "person2@example.com",
                    "idProperty": "email",
                    "properties": {"amount": "x"},
                    "objectWriteTraceId": "2",
                },
            ]
        },
    )
    assert resp.status_code == 400
    name = hs.get("/crm/v3/objects/contacts/1001", params={"properties": "firstname"}).json()
    assert name["properties"]["firstname"] == "First1"


def test_upsert_by_non_unique_property_is_400(hs: Api) -> None:
    for prop in ("lms_user_id", "hs_object_id"):
        resp = batch(
            hs, "upsert", {"inputs": [{"id": "u-2", "idProperty": prop, "properties": {}}]}
        )
        assert resp.status_code == 400
        assert (
            resp.json()["message"]
            == f"Unable to perform update/upsert by non-unique 0-1 property {prop}"
        )


def test_upsert_by_unique_property_is_idempotent_with_207(hs: Api) -> None:
    make_unique_prop(hs, "tasks", "lms_task_key")
    inputs = [
        {
            "id": f"k{i}",
            "idProperty": "lms_task_key",
            "objectWriteTraceId": f"k{i}",
            "properties": {"hs_timestamp": "2024-06-01T09:00:00Z", "hs_task_subject": f"S{i}"},
        }
        for i in range(3)
    ]
    first = batch(hs, "upsert", {"inputs": inputs}, "tasks")
    assert first.status_code == 200 and all(r["new"] for r in first.json()["results"])
    inputs[1]["properties"]["hs_task_priority"] = "URGENT"  # not an option
    second = batch(hs, "upsert", {"inputs": inputs}, "tasks")
    assert second.status_code == 207
    assert [r["new"] for r in second.json()["results"]] == [False, False]
    assert second.json()["errors"][0]["context"]["objectWriteTraceId"] == ["k1"]
    assert count(hs, "tasks") == 3


def test_duplicate_id_property_values_in_upsert(hs: Api) -> None:
    resp = batch(
        hs,
        "upsert",
        {
            "inputs": [
                {"id": "a@x.com", "idProperty": "email", "properties": {}},
                {"id": "A@x.com", "idProperty": "email", "properties": {}},
            ]
        },
    )
    assert resp.status_code == 400
    assert resp.json()["context"]["ids"] == ["a@x.com"]


def test_archive_is_204_and_removes_from_lists(hs: Api) -> None:
    resp = batch(hs, "archive", {"inputs": [{"id": "1001"}, {"id": "1002"}, {"id": "777777"}]})
    assert resp.status_code == 204 and resp.content == b""
    assert count(hs) == N_CONTACTS - 2
    read = batch(hs, "read", {"inputs": [{"id": "1001"}]}, "contacts")
    assert read.status_code == 207
    archived = hs.post(
        "/crm/v3/objects/contacts/batch/read",
        params={"archived": "true"},
        json={"inputs": [{"id": "1001"}]},
    )
    assert archived.status_code == 200 and archived.json()["results"][0]["archived"] is True


def test_write_calls_are_counted(hs: Api) -> None:
    hs.control("calls/reset")
    batch(
        hs,
        "update",
        {"inputs": [{"id": str(1000 + i), "properties": {"firstname": "Z"}} for i in range(5)]},
    )
    batch(hs, "read", {"inputs": [{"id": "1000"}]})
    calls = hs.calls()
    assert calls["write_calls"] == 1 and calls["records_written"] == 5
    routes = {(r["route"], r["status"]) for r in calls["routes"]}
    assert ("/crm/v3/objects/{object_type}/batch/update", 200) in routes


def test_email_conflict_rejects_the_batch_even_with_trace_ids(hs: Api) -> None:
    resp = batch(
        hs,
        "create",
        {
            "inputs": [
                {"properties": {"email": "fresh@x.com"}, "objectWriteTraceId": "a"},
                {"properties": {"email": "person7@example.com"}, "objectWriteTraceId": "b"},
            ]
        },
    )
    assert resp.status_code == 409
    assert resp.json()["message"] == "Contact already exists. Existing ID: 1007"
    assert count(hs) == N_CONTACTS
