"""Which per-learner reads each kind of LearnWorlds activity calls for (pure Python)."""

from __future__ import annotations

from typing import Any

from extract.lms_signals import Signals


def _log(uid: str, activity: str) -> dict[str, Any]:
    return {"user": {"id": uid}, "created": 1.0, "activity": activity}


def _hook(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"version": 2, "type": kind, "data": data}


def test_event_log_activities_name_the_reads_they_need():
    s = Signals()
    for uid, activity in [
        ("enrol", "purchase"),
        ("free", "manual_enrollment"),
        ("done", "complete_course"),
        ("cert", "award_certificate"),
        ("new", "unheard_of_activity"),
        ("quiet", "login"),
        ("joined", "register"),
        ("sub", "subscription_signup"),
    ]:
        s.from_event_log(_log(uid, activity))
    assert s.enrollments == {"enrol", "free"}
    assert s.learning == {"done", "new"}
    assert s.certificates == {"cert"}
    assert s.progress() == {"enrol", "free", "done", "new"}
    assert s.learners() == ["cert", "done", "enrol", "free", "new"]


def test_payments_enroll_only_for_course_products():
    s = Signals()
    s.from_payment({"user_id": "a", "product": {"id": "c", "type": "course"}})
    s.from_payment({"user_id": "b", "product": {"id": "p", "type": "subscription"}})
    s.from_payment({"user_id": None, "product": {"type": "course"}})
    assert s.enrollments == {"a"}


def test_webhooks_name_the_reads_they_need():
    s = Signals()
    user = {"id": "u-profile", "email": "x@example.com"}
    s.from_webhook(_hook("userUpdated", {"user": user}))
    s.from_webhook(_hook("userTagAdded", {"id": "u-tag", "tag": "vip"}))
    s.from_webhook(_hook("enrolledFreeCourse", {"user": {"id": "u-free"}, "course": {}}))
    s.from_webhook(
        _hook(
            "productBought", {"user": {"id": "u-buy"}, "payment": {"product": {"type": "course"}}}
        )
    )
    s.from_webhook(
        _hook(
            "paymentCreated",
            {"payment": {"user_id": "u-plan", "product": {"type": "subscription"}}},
        )
    )
    s.from_webhook(_hook("awardedCertificate", {"certificate": {"user": {"id": "u-cert"}}}))
    s.from_webhook(_hook("courseCompleted", {"user": {"id": "u-done"}, "course": {}}))
    s.from_webhook(_hook("subscriptionPaymentPlanCanceled", {"user": {"id": "u-cancel"}}))
    s.from_webhook(_hook("somethingNew", {"user": {"id": "u-new"}}))
    assert s.profiles == {"u-profile", "u-tag"}
    assert s.enrollments == {"u-free", "u-buy"}
    assert s.certificates == {"u-cert"}
    assert s.learning == {"u-done", "u-new"}
