"""Builders for API objects in the real shapes (reference notes section 2)."""

from __future__ import annotations

import random
from typing import Any

from sandbox.learnworlds.store import Progress

PROFILE_FIELDS = [
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
# The user's `utms` keys, as the newer spec cut names them (`fc_` first click, `lc_` last).
UTM_KEYS = tuple(f"{click}_{key}" for click in ("fc", "lc") for key in _UTM_KEYS.split())


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
        "fields": dict.fromkeys(PROFILE_FIELDS),
        "tags": [],
        "utms": dict.fromkeys(UTM_KEYS),
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


# The less usual score shapes, in the order callers cycle through them.
ODD_SCORE_SHAPES = 4


def certificate_score(score: int, odd: int | None = None) -> str | None:
    """A certificate's `score` in the shapes LearnWorlds sends: a string whenever present.

    Usually the number as text; `odd` picks one of the other shapes: 0 a word ("OK", the
    value in LearnWorlds' own example), 1 a decimal, 2 an empty string, 3 null.
    """
    if odd is None:
        return str(score)
    return ("OK", f"{min(score, 99)}.5", "", None)[odd % ODD_SCORE_SHAPES]


def unix_seconds(rng: random.Random, ts: float) -> float | int:
    """Unix seconds as the API writes them: a float with microseconds, or, now and then, a
    whole second as a JSON integer (floats lose their trailing `.0` on the wire)."""
    return int(ts) if rng.random() < 0.1 else round(ts, 6)
