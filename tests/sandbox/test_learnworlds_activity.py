"""Generated activity, webhook delivery and the LMS control routes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.sandbox.learnworlds_support import Receiver, running_school, wait_for_webhooks

SIGNATURE = "v1=sandbox-webhook-secret"


def test_activity_is_served_exactly_as_reported(tmp_path: Path) -> None:
    with running_school(tmp_path) as (api, ds, _):
        report = api.control(
            "POST", "/activity", json={"learners": 8, "events": 20, "new_users": 3, "seed": 7}
        )
        assert len(report["learners"]) == 8 and len(report["new_users"]) == 3
        assert report["enrollments"] and report["completions"]
        since = report["started_at"]

        new = api.all_pages("/v2/users", registration_after=since)
        assert {u["id"] for u in new} == set(report["new_users"])

        for enrollment in report["enrollments"]:
            courses = api.all_pages(f"/v2/users/{enrollment['user_id']}/courses")
            assert enrollment["course_id"] in {c["course"]["id"] for c in courses}
        for completion in report["completions"]:
            progress = api.get(
                f"/v2/users/{completion['user_id']}/courses/{completion['course_id']}/progress"
            ).json()
            assert progress["status"] == "completed"
            assert progress["completed_at"] == completion["completed_at"]

        payments = api.all_pages("/v2/payments", created_after=since)
        assert sorted(p["id"] for p in payments) == sorted(report["payments"])
        logs = api.all_pages("/v2/event-logs", created_after=since, sort="asc")
        assert [(e["user"]["id"], e["activity"], e["created"]) for e in logs] == [
            (e["user_id"], e["activity"], e["created"]) for e in report["event_logs"]
        ]
        activities = Counter(e["activity"] for e in logs)
        assert activities["register"] == 3
        assert activities["complete_course"] == len(report["completions"])
        assert activities["award_certificate"] == len(report["certificates"])
        assert activities["purchase"] == len(report["payments"])
        assert activities["purchase"] + activities["manual_enrollment"] == len(
            report["enrollments"]
        )
        for event in logs:
            if event["activity"] != "register":
                assert event["additional_info"]["course_id"] in {c["id"] for c in ds.courses}

        certificates = {
            c["id"]
            for user in {c["user_id"] for c in report["completions"]}
            for c in api.all_pages("/v2/certificates", user_id=user)
        }
        assert set(report["certificates"]) <= certificates
        scores = [
            c["score"]
            for user in {c["user_id"] for c in report["completions"]}
            for c in api.all_pages("/v2/certificates", user_id=user)
        ]
        assert all(s is None or isinstance(s, str) for s in scores)
        counts = api.control("GET", "/state")
        assert counts["users"] == len(ds.users) + 3
        assert counts["payments"] == len(ds.payments) + len(report["payments"])
        assert counts["grades"] == len(ds.grades) + len(report["grades"])


def test_webhooks_are_delivered_signed_with_the_v2_envelope(tmp_path: Path) -> None:
    with Receiver() as receiver, running_school(tmp_path, webhook_url=receiver.url) as (api, _, _):
        report = api.control(
            "POST", "/activity", json={"learners": 10, "events": 25, "new_users": 2, "seed": 11}
        )
        assert report["completions"] and report["payments"] and report["certificates"]
        log = wait_for_webhooks(api)
        assert log["pending"] == 0
        assert all(d["delivered"] and d["attempts"] == 1 for d in log["deliveries"])
        assert len(receiver.received) == report["webhooks"] == len(log["deliveries"])
        types = Counter(body["type"] for _, body in receiver.received)
        assert types["courseCompleted"] == len(report["completions"])
        assert types["awardedCertificate"] == len(report["certificates"])
        assert types["productBought"] == len(report["payments"])
        assert types["enrolledFreeCourse"] == len(report["enrollments"]) - len(report["payments"])
        assert types["userUpdated"] == 2
        triggers = {
            "courseCompleted": "course_completed",
            "awardedCertificate": "certificate_awarded",
            "productBought": "new_purchase",
            "enrolledFreeCourse": "enrolled_free",
            "userUpdated": "user_updated",
        }
        for headers, body in receiver.received:
            assert headers["Learnworlds-Webhook-Signature"] == SIGNATURE
            assert body["version"] == 2 and body["school_id"]
            assert body["trigger"] == triggers[body["type"]]
            assert body["data"]["user"]["id"] and "email" in body["data"]["user"]
        completed = {
            (b["data"]["user"]["id"], b["data"]["course"]["id"], int(b["data"]["completed_at"]))
            for _, b in receiver.received
            if b["type"] == "courseCompleted"
        }
        assert completed == {
            (c["user_id"], c["course_id"], c["completed_at"]) for c in report["completions"]
        }
        certs = {
            b["data"]["certificate"]["id"]
            for _, b in receiver.received
            if b["type"] == "awardedCertificate"
        }
        assert certs == set(report["certificates"])


def test_failed_deliveries_are_retried(tmp_path: Path) -> None:
    with Receiver(fail_first=2) as receiver, running_school(tmp_path) as (api, _, _):
        api.control("POST", "/webhooks", json={"url": receiver.url})
        created = api.send(
            "POST", "/v2/users", json={"email": "hook@example.org", "username": "hook"}
        )
        assert created.status_code == 201
        log = wait_for_webhooks(api)
        [delivery] = log["deliveries"]
        assert delivery["type"] == "userUpdated"
        assert delivery["attempts"] == 3 and delivery["delivered"]
        assert receiver.attempts == 3
        [(_, body)] = receiver.received
        assert body["data"]["user"]["id"] == created.json()["id"]


def test_user_update_fires_user_updated_and_no_url_means_no_delivery(tmp_path: Path) -> None:
    with Receiver() as receiver, running_school(tmp_path) as (api, ds, _):
        # last_name is not writable through PUT (see test_learnworlds_writes.py); username is.
        api.send("PUT", f"/v2/users/{ds.users[0]['id']}", json={"username": "Quiet"})
        assert api.control("GET", "/webhooks")["deliveries"] == []
        api.control("POST", "/webhooks", json={"url": receiver.url})
        api.send("PUT", f"/v2/users/{ds.users[0]['id']}", json={"username": "Loud"})
        wait_for_webhooks(api)
        [(_, body)] = receiver.received
        assert body["type"] == "userUpdated"
        assert body["data"]["user"]["username"] == "Loud"


def test_mutate_touches_the_requested_share_of_learners(tmp_path: Path) -> None:
    with running_school(tmp_path) as (api, ds, _):
        before = api.control("GET", "/state")
        result = api.control("POST", "/mutate", json={"fraction": 0.2, "seed": 1})
        assert len(result["learners"]) == round(len(ds.users) * 0.2)
        after = api.control("GET", "/state")
        assert after["event_logs"] == before["event_logs"] + len(result["event_logs"])
        bad = api.http.post("/_sandbox/mutate", json={"fraction": 3})
        assert bad.status_code == 422 and bad.json()["success"] is False


def test_load_state_and_reset(tmp_path: Path) -> None:
    with running_school(tmp_path / "good") as (api, ds, _):
        counts = api.control("GET", "/state")
        assert counts == {
            "users": len(ds.users),
            "courses": len(ds.courses),
            "enrollments": len(ds.enrollments),
            "progress": len(ds.progress),
            "certificates": len(ds.certificates),
            "payments": len(ds.payments),
            "grades": len(ds.grades),
            "event_logs": len(ds.event_logs),
        }
        for kind in ("enrollments", "grades", "payments"):
            records = api.control("GET", "/state", params={"object": kind})["records"]
            assert sorted(json.dumps(r, sort_keys=True) for r in records) == sorted(
                json.dumps(r, sort_keys=True) for r in getattr(ds, kind)
            )
        assert api.http.get("/_sandbox/state", params={"object": "cars"}).status_code == 404
        broken = tmp_path / "broken" / "lms"
        broken.mkdir(parents=True)
        (broken / "users.jsonl").write_text('{"id": "x"}\nnot json\n')
        response = api.http.post("/_sandbox/load", json={"path": str(broken.parent)})
        assert response.status_code == 422
        assert "users.jsonl line 2" in response.json()["errors"][0]["message"]
        # A failed load leaves the loaded school in place.
        assert api.control("GET", "/state")["users"] == len(ds.users)
        api.control("POST", "/reset")
        assert set(api.control("GET", "/state").values()) == {0}
        assert api.get("/v2/users").json()["data"] == []
