"""Enrollment writes and subscription webhooks against the live emulator: POST and DELETE
/v2/users/{id}/enrollment as the spec models them, the webhooks they fire, the rate limit on
them, and the activity control's subscription steps."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.sandbox.learnworlds_support import (
    WebhookSchool,
    running_school,
    school_with_webhooks,
)

NOT_FOUND = {"error": "Sorry the resource your trying to access does not exist."}
TOO_MANY = {"error": "Too many requests"}


class School(WebhookSchool):
    def courses_of(self, key: str) -> list[str]:
        response = self.api.get(f"/v2/users/{quote(key, safe='')}/courses")
        assert response.status_code == 200, response.text
        return [row["course"]["id"] for row in response.json()["data"]]

    def enrolled(self, user: dict[str, Any], body: dict[str, Any]) -> Any:
        return self.api.send("POST", f"/v2/users/{user['id']}/enrollment", json=body)

    def unenrolled(self, user: dict[str, Any], body: dict[str, Any]) -> Any:
        return self.api.send("DELETE", f"/v2/users/{user['id']}/enrollment", json=body)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    with school_with_webhooks(tmp_path_factory.mktemp("lw_enrol")) as base:
        yield School(base.api, base.ds, base.receiver)


@pytest.fixture
def lw(school: School) -> School:
    school.events()
    return school


def _free_course(lw: School, user: dict[str, Any]) -> str:
    mine = set(lw.courses_of(user["id"]))
    return next(c["id"] for c in lw.ds.courses if not c["final_price"] and c["id"] not in mine)


# -- POST /v2/users/{id}/enrollment -----------------------------------------------------------


def test_free_enrollment_answers_success_and_fires_enrolled_free_course(lw: School) -> None:
    user = lw.ds.users[0]  # enrolled in intro-to-analytics only
    course_id = _free_course(lw, user)
    body = {
        "productId": course_id,
        "productType": "course",
        "price": 0,
        "justification": "Added by admin",
        "send_enrollment_email": False,
    }
    response = lw.enrolled(user, body)
    assert response.status_code == 200 and response.json() == {"success": True}
    assert course_id in lw.courses_of(user["id"])
    roster = lw.api.all_pages(f"/v2/courses/{course_id}/users")
    assert user["id"] in {u["id"] for u in roster}
    (event,) = lw.events()
    assert (event["type"], event["trigger"], event["version"]) == (
        "enrolledFreeCourse",
        "enrolled_free",
        2,
    )
    data = event["data"]
    assert data["user"]["id"] == user["id"] and data["course"]["id"] == course_id
    assert isinstance(data["date"], int) and data["ip_address"] is None
    logs = lw.api.get("/v2/event-logs", user_id=user["id"], activity="manual_enrollment").json()
    assert course_id in {row["additional_info"]["course_id"] for row in logs["data"]}
    # Enrolling again changes nothing and fires nothing.
    again = lw.enrolled(user, body)
    assert again.status_code == 200 and again.json() == {"success": True}
    assert lw.courses_of(user["id"]).count(course_id) == 1
    assert lw.events() == []
    assert lw.api.control("GET", "/outbox") == {"emails": []}


def test_priced_enrollment_by_email_fires_no_webhook_and_can_send_the_email(lw: School) -> None:
    user = lw.ds.users[3]  # email in mixed case; enrolled in quick-start only
    mine = set(lw.courses_of(user["id"]))
    course_id = next(c["id"] for c in lw.ds.courses if c["id"] not in mine)
    response = lw.api.send(
        "POST",
        f"/v2/users/{quote(user['email'].lower(), safe='')}/enrollment",
        json={
            "productId": course_id,
            "productType": "course",
            "price": 99.5,
            "send_enrollment_email": True,
        },
    )
    assert response.status_code == 200 and response.json() == {"success": True}
    assert course_id in lw.courses_of(user["id"])
    assert lw.events() == []
    emails = lw.api.control("GET", "/outbox")["emails"]
    assert [(e["type"], e["user_id"], e["product_id"]) for e in emails] == [
        ("enrollment", user["id"], course_id)
    ]
    lw.api.control("POST", "/outbox/clear")


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"productType": "course", "price": 0}, "productId"),
        ({"productId": "quick-start", "price": 0}, "productType"),
        ({"productId": "quick-start", "productType": "course"}, "price"),
        ({"productId": "quick-start", "productType": "webinar", "price": 0}, "productType"),
        ({"productId": "quick-start", "productType": "course", "price": "free"}, "price"),
    ],
)
def test_enrollment_body_follows_the_spec_required_fields(
    lw: School, body: dict[str, Any], context: str
) -> None:
    user = lw.ds.users[1]
    before = lw.courses_of(user["id"])
    response = lw.enrolled(user, body)
    assert response.status_code == 422
    problems = response.json()
    assert problems["success"] is False
    assert context in {e["context"] for e in problems["errors"]}
    assert lw.courses_of(user["id"]) == before
    assert lw.events() == []


@pytest.mark.parametrize(
    ("user_key", "product"),
    [
        ("000000000000000000000000", {"productId": "quick-start", "productType": "course"}),
        (None, {"productId": "no-such-course", "productType": "course"}),
        # the emulated school sells no bundles or manual subscriptions
        (None, {"productId": "quick-start", "productType": "bundle"}),
    ],
)
def test_unknown_user_or_product_is_a_404_both_ways(
    lw: School, user_key: str | None, product: dict[str, Any]
) -> None:
    key = user_key or lw.ds.users[2]["id"]
    path = f"/v2/users/{key}/enrollment"
    post = lw.api.send("POST", path, json={**product, "price": 0})
    delete = lw.api.send("DELETE", path, json=product)
    assert (post.status_code, post.json()) == (404, NOT_FOUND)
    assert (delete.status_code, delete.json()) == (404, NOT_FOUND)
    assert lw.events() == []


# -- DELETE /v2/users/{id}/enrollment ---------------------------------------------------------


def test_unenrollment_is_a_204_and_fires_user_unenrolled_from_product(lw: School) -> None:
    user = lw.ds.users[4]  # enrolled in intro-to-analytics and advanced-pipelines
    course = next(c for c in lw.ds.courses if c["id"] in lw.courses_of(user["id"]))
    progress_before = lw.api.get(f"/v2/users/{user['id']}/progress").json()["data"]
    response = lw.unenrolled(user, {"productId": course["id"], "productType": "course"})
    assert response.status_code == 204 and response.content == b""
    assert course["id"] not in lw.courses_of(user["id"])
    roster = lw.api.all_pages(f"/v2/courses/{course['id']}/users")
    assert user["id"] not in {u["id"] for u in roster}
    (event,) = lw.events()
    assert (event["type"], event["trigger"], event["version"]) == (
        "userUnenrolledFromProduct",
        "unenrolled_from_product",
        2,
    )
    assert event["data"]["product"] == {
        "id": course["id"],
        "title": course["title"],
        "type": "course",
    }
    assert event["data"]["user"]["id"] == user["id"]
    assert event["data"]["user"]["email"] == user["email"]
    # Guess documented in the route: the learner's progress is kept.
    assert lw.api.get(f"/v2/users/{user['id']}/progress").json()["data"] == progress_before
    # Not enrolled any more: a 404, and nothing fires.
    again = lw.unenrolled(user, {"productId": course["id"], "productType": "course"})
    assert (again.status_code, again.json()) == (404, NOT_FOUND)
    assert lw.events() == []


def test_unenrollment_needs_product_id_and_type(lw: School) -> None:
    user = lw.ds.users[4]
    for body in ({"productType": "course"}, {"productId": "quick-start"}, {}):
        response = lw.unenrolled(user, body)
        assert response.status_code == 422, body
    assert lw.events() == []


def test_enroll_then_unenroll_round_trip_by_email(lw: School) -> None:
    user = lw.ds.users[6]
    course_id = _free_course(lw, user)
    key = quote(user["email"], safe="")
    body = {"productId": course_id, "productType": "course"}
    assert lw.api.send("POST", f"/v2/users/{key}/enrollment", json={**body, "price": 0}).is_success
    assert lw.api.send("DELETE", f"/v2/users/{key}/enrollment", json=body).status_code == 204
    assert course_id not in lw.courses_of(user["id"])
    assert [e["type"] for e in lw.events()] == ["enrolledFreeCourse", "userUnenrolledFromProduct"]


# -- subscriptions through the activity control -----------------------------------------------


def test_subscription_events_buy_then_cancel_in_the_documented_shapes(lw: School) -> None:
    report = lw.api.control(
        "POST", "/activity", json={"learners": 2, "events": 0, "subscription_events": 4, "seed": 5}
    )
    learners = report["learners"]
    assert len(learners) == 2 and report["enrollments"] == [] and report["completions"] == []
    kinds = [(s["user_id"], s["event"]) for s in report["subscriptions"]]
    assert kinds == [
        (learners[0], "started"),
        (learners[1], "started"),
        (learners[0], "cancelled"),
        (learners[1], "cancelled"),
    ]
    events = lw.events()
    assert report["webhooks"] == len(events) == 4
    bought, _, canceled, _ = events
    assert (bought["type"], bought["trigger"]) == (
        "subscriptionPaymentPlanBought",
        "subscription_started",
    )
    # The documentation's example nests the user as data.user.user.
    assert bought["data"]["user"]["user"]["id"] == learners[0]
    assert set(bought["data"]["user"]) == {"user"}
    assert bought["data"]["date"] == report["subscriptions"][0]["date"]
    sale = bought["data"]["payment"]
    assert sale["type"] == "subscription" and sale["user_id"] == learners[0]
    assert sale["product"]["id"] == "pro-monthly" and sale["product"]["type"] == "subscription"
    assert (canceled["type"], canceled["trigger"]) == (
        "subscriptionPaymentPlanCanceled",
        "subscription_cancelled",
    )
    assert canceled["data"]["user"]["id"] == learners[0]
    assert canceled["data"]["product"] == {
        "id": "pro-monthly",
        "title": "Pro (monthly)",
        "type": "subscription",
    }
    assert isinstance(canceled["data"]["date"], int)
    assert canceled["data"]["date"] >= bought["data"]["date"]
    logs = lw.api.get("/v2/event-logs", user_id=learners[0], activity="subscription_signup")
    assert len(logs.json()["data"]) == 1


def test_activity_without_subscription_events_is_unchanged(lw: School) -> None:
    report = lw.api.control("POST", "/activity", json={"learners": 3, "seed": 9})
    assert report["subscriptions"] == []
    types = {e["type"] for e in lw.events()}
    assert types and not {t for t in types if t.startswith("subscription")}


# -- rate limit -------------------------------------------------------------------------------


def test_enrollment_writes_count_against_the_limit(tmp_path: Path) -> None:
    with running_school(tmp_path) as (api, ds, _):
        api.mint()
        api.control("POST", "/chaos", json={"rate_max": 2, "rate_interval_ms": 60_000})
        user = ds.users[0]
        path = f"/v2/users/{user['id']}/enrollment"
        body = {"productId": "quick-start", "productType": "course"}
        assert api.send("POST", path, json={**body, "price": 0}).status_code == 200
        assert api.send("DELETE", path, json=body).status_code == 204
        for method, sent in (("POST", {**body, "price": 0}), ("DELETE", body)):
            response = api.send(method, path, json=sent)
            assert (response.status_code, response.json()) == (429, TOO_MANY)
        api.control("POST", "/chaos", json={})
        courses = api.get(f"/v2/users/{user['id']}/courses").json()["data"]
        assert "quick-start" not in {row["course"]["id"] for row in courses}
        calls = api.control("GET", "/calls")
        assert calls["status_429"] == 2 and calls["write_calls"] == 2
        assert calls["records_written"] == 2
