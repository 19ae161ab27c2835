"""Which per-learner LearnWorlds reads a piece of new activity calls for.

An incremental run learns of activity only from the time-windowed feeds (event logs,
payments) and the landed webhooks. Each names a learner and a kind of change, and each kind
needs a different read: a new enrollment is the only thing that changes a learner's
enrollment list (`/v2/users/{id}/courses` is the only place its date is served), learning
changes their progress and maybe grades, and a certificate lives in `/v2/certificates`.
Activity that the feeds or webhooks already carry in full (a login, a sign-up, a
subscription payment) calls for no read at all, so the call count follows what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Event-log activities whose whole effect is already in a feed or a webhook we land: sessions,
# sign-ups (the users feed), subscription and payment-plan events (webhooks), failed payments.
_CARRIED = frozenset(
    {
        "login",
        "logout",
        "register",
        "subscription_signup",
        "subscription_trial",
        "installment_paid",
        "failed_purchase",
        "payment_failed",
    }
)
_ENROLLING = frozenset({"purchase", "manual_enrollment"})
_CERTIFYING = frozenset({"award_certificate"})

_ENROLLING_HOOKS = frozenset({"enrolledFreeCourse", "productBought", "paymentCreated"})
_UNENROLLING_HOOKS = frozenset({"userUnenrolledFromProduct"})
_CERTIFYING_HOOKS = frozenset({"awardedCertificate"})
_PROFILE_HOOKS = frozenset({"userUpdated"})
_TAG_HOOKS = frozenset({"userTagAdded", "userTagDeleted"})
# Hooks whose payload is the whole change (or a lead, not a learner): nothing to re-read.
_CARRIED_HOOKS = frozenset(
    {
        "leadCreated",
        "previewedFree",
        "subscriptionPaymentPlanBought",
        "subscriptionPaymentPlanCanceled",
        "subscriptionTrialStarted",
        "subscriptionTrialWillEnd",
        "subscriptionUpdated",
    }
)
# Products whose purchase gives course access (a subscription's does not enroll by itself).
_ENROLLING_PRODUCTS = frozenset({"course", "bundle", ""})


@dataclass
class Signals:
    """Learner ids per read they are due, gathered while the feeds are paged."""

    enrollments: set[str] = field(default_factory=set)
    learning: set[str] = field(default_factory=set)
    certificates: set[str] = field(default_factory=set)
    profiles: set[str] = field(default_factory=set)

    def progress(self) -> set[str]:
        """A new enrollment adds a progress row too; learning changes one."""
        return self.enrollments | self.learning

    def learners(self) -> list[str]:
        return sorted(self.progress() | self.certificates)

    def from_event_log(self, row: dict[str, Any]) -> None:
        uid = _id((row.get("user") or {}).get("id") if isinstance(row.get("user"), dict) else None)
        activity = str(row.get("activity") or "")
        if uid is None or activity in _CARRIED:
            return
        if activity in _ENROLLING:
            self.enrollments.add(uid)
        elif activity in _CERTIFYING:
            self.certificates.add(uid)
        else:
            # Course completion, visits, sessions and activities we do not know yet: progress.
            self.learning.add(uid)

    def from_payment(self, row: dict[str, Any]) -> None:
        uid = _id(row.get("user_id"))
        product = row.get("product") if isinstance(row.get("product"), dict) else {}
        if uid is not None and str(product.get("type") or "") in _ENROLLING_PRODUCTS:
            self.enrollments.add(uid)

    def from_webhook(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type") or "")
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        if kind in _TAG_HOOKS:
            # Tag webhooks carry the user's fields at the top of data, and fire no
            # userUpdated: the profile (its tags) is re-read all the same.
            uid = _id(data.get("id"))
            if uid is not None:
                self.profiles.add(uid)
            return
        uid = _hook_learner(data)
        if uid is None or kind in _CARRIED_HOOKS:
            return
        if kind in _PROFILE_HOOKS:
            self.profiles.add(uid)
        elif kind in _ENROLLING_HOOKS:
            payment = data.get("payment") if isinstance(data.get("payment"), dict) else None
            if payment is None:
                self.enrollments.add(uid)
            else:
                self.from_payment({**payment, "user_id": payment.get("user_id") or uid})
        elif kind in _UNENROLLING_HOOKS:
            self.enrollments.add(uid)
        elif kind in _CERTIFYING_HOOKS:
            self.certificates.add(uid)
        else:
            self.learning.add(uid)


def _hook_learner(data: dict[str, Any]) -> str | None:
    """The learner a webhook is about: its `user`, else its certificate's or payment's."""
    for key, path in (("user", ("id",)), ("certificate", ("user", "id")), ("payment", ())):
        value: Any = data.get(key)
        if not isinstance(value, dict):
            continue
        if key == "payment":
            value = value.get("user_id")
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if _id(value) is not None:
            return _id(value)
    return None


def _id(value: Any) -> str | None:
    return str(value) if value else None
