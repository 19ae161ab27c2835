"""The v2 webhook events the school sends for learner activity (reference section 4)."""

from __future__ import annotations

from typing import Any

from sandbox.learnworlds.context import Emulator

_CERT_KEYS = ("id", "course_id", "issued", "score", "type", "status", "user")


def user_updated(emulator: Emulator, user: dict[str, Any]) -> None:
    """Fires on sign-up and on profile updates (there is no separate "user created")."""
    emulator.webhooks.emit("userUpdated", "user_updated", {"user": user, "ip_address": None})


def enrolled_free(
    emulator: Emulator, user: dict[str, Any], course: dict[str, Any], date: float
) -> None:
    emulator.webhooks.emit(
        "enrolledFreeCourse",
        "enrolled_free",
        {"user": user, "ip_address": None, "date": int(date), "course": course},
    )


def product_bought(emulator: Emulator, user: dict[str, Any], payment: dict[str, Any]) -> None:
    emulator.webhooks.emit(
        "productBought",
        "new_purchase",
        {"user": user, "ip_address": None, "payment": payment},
    )


def course_completed(
    emulator: Emulator, user: dict[str, Any], course: dict[str, Any], completed_at: float
) -> None:
    emulator.webhooks.emit(
        "courseCompleted",
        "course_completed",
        {
            "completed_at": completed_at,
            "manually_completed": False,
            "ip_address": None,
            "course": course,
            "user": user,
        },
    )


def awarded_certificate(
    emulator: Emulator, user: dict[str, Any], certificate: dict[str, Any]
) -> None:
    emulator.webhooks.emit(
        "awardedCertificate",
        "certificate_awarded",
        {
            "user": user,
            "ip_address": None,
            "certificate": {k: certificate.get(k) for k in _CERT_KEYS},
        },
    )


def user_tags_changed(
    emulator: Emulator, user: dict[str, Any], added: list[str], removed: list[str]
) -> None:
    """One `userTagAdded` / `userTagDeleted` per tag that actually changed.

    The reference puts the user's fields at the top of `data` (no `user` key) and does not
    name the key carrying the tag. Guess: the tag is under `data.tag` (a string), next to
    the user's fields as they are after the change.
    """
    for tag in added:
        emulator.webhooks.emit("userTagAdded", "user_tag_added", {**user, "tag": tag})
    for tag in removed:
        emulator.webhooks.emit("userTagDeleted", "user_tag_deleted", {**user, "tag": tag})


def product_ref(product: dict[str, Any], product_type: str) -> dict[str, Any]:
    """The `product{id,title,type}` object unenrolment and cancellation webhooks carry."""
    return {
        "id": product.get("id"),
        "title": product.get("title") or product.get("name"),
        "type": product_type,
    }


def user_unenrolled(emulator: Emulator, user: dict[str, Any], product: dict[str, Any]) -> None:
    """`userUnenrolledFromProduct`: `user` plus `product{id,title,type}` (reference section 4)."""
    emulator.webhooks.emit(
        "userUnenrolledFromProduct",
        "unenrolled_from_product",
        {"user": user, "product": product},
    )


def subscription_bought(
    emulator: Emulator, user: dict[str, Any], payment: dict[str, Any], date: float
) -> None:
    """`subscriptionPaymentPlanBought`: date and payment; the documentation's example nests
    the user one level deeper than every other type, as `data.user.user`, and so do we."""
    emulator.webhooks.emit(
        "subscriptionPaymentPlanBought",
        "subscription_started",
        {"date": int(date), "payment": payment, "user": {"user": user}},
    )


def subscription_canceled(
    emulator: Emulator, user: dict[str, Any], product: dict[str, Any], date: float
) -> None:
    """`subscriptionPaymentPlanCanceled`: user, date and `product{id,title,type}`."""
    emulator.webhooks.emit(
        "subscriptionPaymentPlanCanceled",
        "subscription_cancelled",
        {"user": user, "date": int(date), "product": product},
    )
