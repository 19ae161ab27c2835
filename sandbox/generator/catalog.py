"""The school's course catalog: fixed, so dbt seeds (course_rules) can name its slugs.

The same 30 courses exist in every generated dataset, whatever the seed or size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PRODUCTS = ("analytics", "automation", "integrations", "reporting", "security")


@dataclass(frozen=True)
class Course:
    id: str  # LearnWorlds course ids are slugs
    title: str
    categories: tuple[str, ...]
    price: int  # final price; 0 = free
    total_units: int
    assessments: int
    certifies: str | None  # product a certification course certifies
    popularity: float

    @property
    def access(self) -> str:
        return "paid" if self.price else "free"

    @property
    def assessment_ids(self) -> list[str]:
        # Stable 24-hex unit ids, derived from the slug so they never depend on the seed.
        return [
            hashlib.sha1(f"{self.id}/assessment/{n}".encode()).hexdigest()[:24]
            for n in range(self.assessments)
        ]


def _c(
    slug: str,
    title: str,
    cats: tuple[str, ...],
    price: int = 0,
    units: int = 8,
    assessments: int = 1,
    certifies: str | None = None,
    popularity: float = 1.0,
) -> Course:
    return Course(slug, title, cats, price, units, assessments, certifies, popularity)


COURSES: tuple[Course, ...] = (
    _c("getting-started", "Getting Started", ("onboarding",), units=5, popularity=6),
    _c("admin-onboarding", "Admin Onboarding", ("onboarding",), units=7, popularity=3),
    _c("workspace-setup", "Workspace Setup Basics", ("onboarding",), units=4, assessments=0),
    _c("team-onboarding-live", "Team Onboarding (Live)", ("onboarding", "instructor-led"), 149),
    _c("analytics-demo", "Analytics Product Demo", ("product-demo",), units=3, assessments=0),
    _c("automation-demo", "Automation Product Demo", ("product-demo",), units=3, assessments=0),
    _c("integrations-demo", "Integrations Product Demo", ("product-demo",), units=3, assessments=0),
    _c("reporting-demo", "Reporting Product Demo", ("product-demo",), units=3, assessments=0),
    _c("security-demo", "Security Product Demo", ("product-demo",), units=3, assessments=0),
    _c("analytics-fundamentals", "Analytics Fundamentals", ("analytics",), units=10, popularity=3),
    _c("advanced-analytics", "Advanced Analytics", ("analytics",), 99, 12, 2, popularity=1.5),
    _c(
        "automation-fundamentals",
        "Automation Fundamentals",
        ("automation",),
        units=9,
        popularity=2.5,
    ),
    _c("workflow-recipes", "Workflow Recipes", ("automation",), 49, 6),
    _c("api-integrations-101", "API Integrations 101", ("integrations",), units=8, popularity=2),
    _c(
        "reporting-dashboards",
        "Building Reporting Dashboards",
        ("reporting",),
        units=9,
        popularity=2,
    ),
    _c("security-essentials", "Security Essentials", ("security",), units=6),
    _c(
        "analytics-certification",
        "Certified Analytics Professional",
        ("certification",),
        299,
        14,
        3,
        "analytics",
        1.5,
    ),
    _c(
        "automation-certification",
        "Certified Automation Specialist",
        ("certification",),
        299,
        12,
        3,
        "automation",
        1.2,
    ),
    _c(
        "integrations-certification",
        "Certified Integrations Engineer",
        ("certification",),
        349,
        14,
        3,
        "integrations",
    ),
    _c(
        "reporting-certification",
        "Certified Reporting Analyst",
        ("certification",),
        249,
        10,
        2,
        "reporting",
    ),
    _c(
        "security-certification",
        "Certified Security Administrator",
        ("certification",),
        399,
        12,
        3,
        "security",
        0.7,
    ),
    _c(
        "admin-certification-live",
        "Admin Certification Bootcamp",
        ("certification", "instructor-led"),
        899,
        16,
        3,
        "automation",
        0.4,
    ),
    _c(
        "analytics-masterclass",
        "Analytics Masterclass (Live)",
        ("instructor-led",),
        499,
        6,
        1,
        popularity=0.5,
    ),
    _c(
        "integration-workshop",
        "Integration Workshop (Live)",
        ("instructor-led",),
        399,
        5,
        1,
        popularity=0.5,
    ),
    _c(
        "quarterly-product-update",
        "Quarterly Product Update",
        ("webinar",),
        units=1,
        assessments=0,
        popularity=2,
    ),
    _c("roi-webinar", "Measuring ROI Webinar", ("webinar",), units=1, assessments=0),
    _c(
        "customer-stories-webinar", "Customer Stories Webinar", ("webinar",), units=1, assessments=0
    ),
    _c(
        "best-practices-webinar",
        "Best Practices Webinar",
        ("webinar",),
        units=1,
        assessments=0,
        popularity=1.5,
    ),
    _c("data-privacy-basics", "Data Privacy Basics", ("security", "onboarding"), units=4),
    _c("power-user-tips", "Power User Tips", ("automation", "analytics"), 29, 5, 1),
)

COURSE_BY_ID: dict[str, Course] = {c.id: c for c in COURSES}
