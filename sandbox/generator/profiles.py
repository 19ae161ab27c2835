"""Profile fields people keep on both sides: phones and job titles, with their real mess.

Drawn per person (keyed by the normalized email, from a stream of their own) so adding
them moves no other generated value, and the LMS and CRM copies of one person agree or
disagree the way real ones do: the same phone written differently, a job title only sales
knows, a number LearnWorlds' sign-up rules would refuse.
"""

from __future__ import annotations

import random
from typing import Any

JOB_TITLES = (
    "Data Analyst", "Marketing Manager", "Head of RevOps", "Sales Engineer",
    "Operations Lead", "Software Engineer", "Customer Success Manager", "CFO",
)  # fmt: skip
SKILLS = ("Excel", "SQL", "Python", "Salesforce", "HubSpot", "Tableau")


def _rng(seed: str, email: str, side: str) -> random.Random:
    return random.Random(f"profile-{seed}-{side}-{email.strip().lower()}")


def _phone(rng: random.Random) -> str:
    digits = "".join(str(rng.randint(0, 9)) for _ in range(9))
    shape = rng.random()
    if shape < 0.45:
        return f"+44 {digits[:2]} {digits[2:6]} {digits[6:]}"
    if shape < 0.8:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    if shape < 0.92:
        return f"+1{digits}0"
    # dots: stored by the API as sent, refused when sign-up rules are applied
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:]}"


def lms_fields(seed: str, email: str) -> dict[str, Any]:
    """Extra `fields` keys of a LearnWorlds user (custom ones prefixed cf_, as LW does)."""
    rng = _rng(seed, email, "lms")
    phone = _phone(rng) if rng.random() < 0.5 else rng.choice((None, ""))
    return {
        "phone": phone,
        "cf_job_title": rng.choice(JOB_TITLES) if rng.random() < 0.3 else None,
        "cf_skill": rng.choice(SKILLS) if rng.random() < 0.4 else None,
    }


def hubspot_properties(seed: str, email: str) -> dict[str, str]:
    """Phone and job title on the contact: often the LMS phone, sometimes another one."""
    lms_phone = lms_fields(seed, email)["phone"]
    rng = _rng(seed, email, "hubspot")
    props: dict[str, str] = {}
    draw = rng.random()
    if lms_phone and draw < 0.6:
        props["phone"] = lms_phone
    elif draw < 0.8:
        props["phone"] = _phone(rng)
    if rng.random() < 0.5:
        props["jobtitle"] = rng.choice(JOB_TITLES)
    return props
