"""Builders for API objects in the real shapes (reference notes section 2)."""

from __future__ import annotations

from typing import Any

from sandbox.learnworlds.store import Progress

_PROFILE_FIELDS = [
    "bio",
    "location",
    "url",
    "fb",
    "twitter",
    "instagram",
    "linkedin",
    "skype",
    "behance",
    "dribbble",
    "github",
    "phone",
    "address",
    "country",
    "birthday",
    "company",
    "company_size",
    "university",
    "graduation_year",
]
_UTM_KEYS = "utm_source utm_medium utm_campaign utm_term utm_content landing referrer country"


def new_user(user_id: str, email: str, username: str | None, created: float) -> dict[str, Any]:
    """A freshly registered learner: every documented key present, nothing filled in."""
    return {
        "id": user_id,
        "email": email,
        "username": username or email.split("@", 1)[0],
        "first_name": None,
        "last_name": None,
        "subscribed_for_marketing_emails": False,
        "eu_customer": False,
        "is_admin": False,
        "is_instructor": False,
        "is_suspended": False,
        "is_reporter": False,
        "is_affiliate": False,
        "role": {"level": "user", "name": "User"},
        "referrer_id": None,
        "created": created,
        "last_login": None,
        "signup_approval_status": "passed",
        "fields": dict.fromkeys(_PROFILE_FIELDS),
        "tags": [],
        "utms": {f"{click}_{key}": None for click in ("fc", "lc") for key in _UTM_KEYS.split()},
        "billing_info": None,
        "nps_score": None,
        "nps_comment": None,
    }


def progress_item(progress: Progress | None, course_id: str | None) -> dict[str, Any]:
    """A progress object; `course_id` only in the list form (the per-course read omits it)."""
    item: dict[str, Any] = {} if course_id is None else {"course_id": course_id}
    if progress is None:
        progress = Progress("not_started", 0, 0, 0, 0, 0, None)
    item.update(progress._asdict())
    # Unit-level detail is not part of the dataset; the key is kept so the shape matches.
    item["progress_per_section_unit"] = []
    return item


def payment(
    *,
    payment_id: str,
    transaction_id: str,
    product: dict[str, Any],
    price: float,
    user_id: str,
    billing_info: dict[str, Any] | None,
    paid_at: float,
    created: float,
) -> dict[str, Any]:
    """A one-off course purchase as GET /v2/payments returns it."""
    return {
        "id": payment_id,
        "transaction_id": transaction_id,
        "type": "one-off",
        "product": product,
        "price": price,
        "discount": 0,
        "refund_at": None,
        "user_id": user_id,
        "paid_at": int(paid_at),
        "invoice": None,
        "billing_info": billing_info,
        "coupon": None,
        "instructors": [],
        "instructors_total_percentage": 0,
        "tax_amount": 0,
        "tax_percentage": 0,
        "affiliate": None,
        "period": None,
        "payment_plan_current_payment": None,
        "payment_plan_total_payments": None,
        "gateway": "stripe",
        "created": created,
    }
