"""LearnWorlds records for one learner: the user, enrollments, progress, grades,
certificates, payments, event logs, and the history CSV rows before the API window."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from sandbox.generator import profiles
from sandbox.generator.catalog import COURSES, Course
from sandbox.generator.clock import DAY, iso_seconds, lms_time
from sandbox.generator.context import OVERLAP_DAYS, Context
from sandbox.learnworlds.records import certificate_score, payment, unix_seconds

_COURSE_WEIGHTS = [c.popularity for c in COURSES]
_ENROLL_COUNTS = (0, 1, 2, 3, 4, 5)
_ENROLL_WEIGHTS = (4, 34, 28, 18, 10, 6)
PASS_MARK = 70
TAGS = ("customer", "partner", "trial", "newsletter", "webinar-attendee")


@dataclass
class Learner:
    id: str
    email: str
    created: float
    # Times of learning activity in the API window, for deals that follow learning.
    activity: list[float] = field(default_factory=list)


def _history_row(
    ctx: Context, lr: Learner, course: Course, kind: str, score: Any, ts: float, ext: str
) -> None:
    ctx.files.history.write(
        (
            lr.email.strip(),
            lr.id,
            course.id,
            course.title,
            kind,
            score,
            iso_seconds(ts),
            "learnworlds",
            ext,
        )
    )


def _event(
    ctx: Context,
    lr: Learner,
    username: str,
    ts: float,
    activity: str,
    desc: str,
    kind: str | None,
    info: dict[str, Any],
) -> None:
    ctx.files["lms/event_logs.jsonl"].write(
        {
            "user": {"id": lr.id, "username": username},
            "created": lms_time(ts),
            "activity": activity,
            "description": desc,
            "type": kind,
            "additional_info": info,
        }
    )


def _billing(name: str, city: str, country: str) -> dict[str, Any]:
    return {
        "bf_name": name,
        "bf_address": None,
        "bf_city": city,
        "bf_postalcode": None,
        "bf_country": country,
        "bf_taxid": None,
    }


@dataclass(frozen=True)
class Outcome:
    """How far one enrollment got, drawn before anything about it is written."""

    enrolled: float
    completed: bool
    rate: int
    done: float  # completion time; only meaningful when completed
    grades: list[tuple[str, int, float]]  # (assessment unit, grade, submitted at)
    cert_at: float | None

    @property
    def average(self) -> int:
        return round(sum(g for _, g, _ in self.grades) / len(self.grades)) if self.grades else 0

    @property
    def completed_score(self) -> int | str:
        """The history CSV's score on a completion: the average, blank without grades."""
        return self.average if self.grades else ""

    @property
    def finished(self) -> float:
        return self.done if self.completed else self.enrolled


def draw_outcome(rng: random.Random, course: Course, enrolled: float, as_of: float) -> Outcome:
    """Roll completion, progress rate, grades and certificate time, in that order."""
    completed, rate, done = _draw_completion(rng, enrolled, as_of)
    grades: list[tuple[str, int, float]] = []
    if rate >= 40:
        grades = _draw_grades(rng, course, enrolled, (done if completed else as_of) - enrolled)
    cert_at = done + rng.uniform(5, 600) if completed and course.certifies else None
    return Outcome(enrolled, completed, rate, done, grades, cert_at)


def _draw_completion(rng: random.Random, enrolled: float, as_of: float) -> tuple[bool, int, float]:
    """Half complete (if that lands before as_of) at 100%, most others part-way, some at 0."""
    roll = rng.random()
    done = enrolled + rng.uniform(0.05, 1.0) ** 2 * 60 * DAY
    if roll < 0.5 and done < as_of:
        return True, 100, float(int(done))
    if roll < 0.85:
        return False, rng.randint(5, 95), done
    return False, 0, done


def _draw_grades(
    rng: random.Random, course: Course, enrolled: float, span: float
) -> list[tuple[str, int, float]]:
    """One grade per assessment, submitted somewhere inside the learning span."""
    grades = []
    for unit in course.assessment_ids:
        grade = max(0, min(100, int(rng.gauss(78, 16))))
        submitted = enrolled + rng.uniform(0.1, 0.95) * span
        grades.append((unit, grade, submitted))
    return grades


def _enrollment(
    ctx: Context,
    lr: Learner,
    username: str,
    course: Course,
    t_enrol: float,
    billing: dict[str, Any],
) -> float:
    """Write one enrollment and everything that follows it; return the last activity time."""
    in_api = t_enrol >= ctx.api_start
    # The CSV export repeats some early API events verbatim: whole seconds on both sides.
    overlap = in_api and t_enrol < ctx.api_start + OVERLAP_DAYS * DAY and ctx.rng.random() < 0.5
    outcome = draw_outcome(ctx.rng, course, float(int(t_enrol)), ctx.as_of)
    if not in_api:
        _write_history(ctx, lr, course, outcome)
        return outcome.finished
    _write_progress(ctx, lr, course, outcome)
    _write_grades(ctx, lr, course, outcome)
    lr.activity.append(outcome.enrolled)
    info = {"course_id": course.id, "course_title": course.title}
    _write_purchase(ctx, lr, username, course, outcome, billing, info)
    if outcome.completed:
        lr.activity.append(outcome.done)
        _event(
            ctx,
            lr,
            username,
            outcome.done,
            "complete_course",
            f"Completed {course.title}",
            "user",
            info,
        )
    if outcome.cert_at is not None:
        _write_certificate(ctx, lr, username, course, outcome, outcome.cert_at, info)
    if overlap:
        _write_overlap(ctx, lr, course, outcome)
    return outcome.cert_at if outcome.cert_at is not None else outcome.finished


def _write_history(ctx: Context, lr: Learner, course: Course, outcome: Outcome) -> None:
    """An enrollment before the API window exists only as history CSV rows."""
    ext = f"legacy-{ctx.rng.getrandbits(48):012x}" if ctx.rng.random() < 0.7 else ""
    _history_row(ctx, lr, course, "enrolled", "", outcome.enrolled, ext)
    for _, grade, submitted in outcome.grades:
        if grade >= PASS_MARK:
            _history_row(ctx, lr, course, "assessment_passed", grade, submitted, "")
    if outcome.completed:
        score = outcome.completed_score
        _history_row(ctx, lr, course, "completed", score, outcome.done, "")
    if outcome.cert_at is not None:
        _history_row(ctx, lr, course, "certificate_issued", "", outcome.cert_at, "")


def _write_overlap(ctx: Context, lr: Learner, course: Course, outcome: Outcome) -> None:
    """The history CSV's verbatim repeat of an early API enrollment (and its completion)."""
    _history_row(ctx, lr, course, "enrolled", "", outcome.enrolled, "")
    if outcome.completed:
        score = outcome.completed_score
        _history_row(ctx, lr, course, "completed", score, outcome.done, "")


def _write_progress(ctx: Context, lr: Learner, course: Course, outcome: Outcome) -> None:
    """The enrollment record and the course progress the API reports for it."""
    rate = outcome.rate
    status = "completed" if outcome.completed else ("not_completed" if rate else "not_started")
    ctx.files["lms/enrollments.jsonl"].write(
        {
            "user_id": lr.id,
            "course_id": course.id,
            "created": int(outcome.enrolled),
            "expires": None,
        }
    )
    ctx.files["lms/progress.jsonl"].write(
        {
            "user_id": lr.id,
            "course_id": course.id,
            "status": status,
            # a percentage: an integer in LearnWorlds' examples, a float in its spec
            "progress_rate": rate + 0.5 if 0 < rate < 100 and ctx.shapes.random() < 0.2 else rate,
            "average_score_rate": outcome.average,
            "time_on_course": int(course.total_units * rate * ctx.rng.uniform(3, 12)),
            "total_units": course.total_units,
            "completed_units": course.total_units * rate // 100,
            "completed_at": int(outcome.done) if outcome.completed else None,
        }
    )


def _write_grades(ctx: Context, lr: Learner, course: Course, outcome: Outcome) -> None:
    """One graded assessment submission per grade; each counts as learning activity."""
    rng = ctx.rng
    for unit, grade, submitted in outcome.grades:
        created = submitted - rng.uniform(60, 3600)
        ctx.files["lms/grades.jsonl"].write(
            {
                "id": ctx.oids.new(created),
                "user_id": lr.id,
                "email": lr.email,
                "grade": grade,
                "created": lms_time(created),
                "modified": unix_seconds(ctx.shapes, submitted + rng.uniform(1, 10)),
                "submittedTimestamp": lms_time(submitted),
                "learningUnit": {
                    "type": "assessmentV2",
                    "id": unit,
                    "icon": "exam",
                    "subtitle": "Assessment",
                },
                "course_id": course.id,
            }
        )
        lr.activity.append(submitted)


def _write_purchase(
    ctx: Context,
    lr: Learner,
    username: str,
    course: Course,
    outcome: Outcome,
    billing: dict[str, Any],
    info: dict[str, Any],
) -> None:
    """A paid course leaves a payment and a purchase event; a free one a manual enrollment."""
    t_enrol = outcome.enrolled
    if not course.price:
        desc = f"Enrolled in {course.title}"
        _event(ctx, lr, username, t_enrol, "manual_enrollment", desc, "user", info)
        return
    pay_id = ctx.oids.new(t_enrol)
    ctx.files["lms/payments.jsonl"].write(
        payment(
            payment_id=pay_id,
            transaction_id=f"ch_{ctx.rng.getrandbits(96):024x}",
            product={
                "id": course.id,
                "type": "course",
                "name": course.title,
                "description": "",
                "image": None,
                "trial_days": 0,
                "original_price": course.price,
                "discount_price": 0,
                "final_price": course.price,
            },
            price=course.price,
            user_id=lr.id,
            billing_info=billing,
            paid_at=t_enrol,
            created=lms_time(t_enrol),
        )
    )
    paid = {**info, "payment_id": pay_id, "price": course.price}
    _event(ctx, lr, username, t_enrol, "purchase", f"Purchased {course.title}", "purchase", paid)


def _write_certificate(
    ctx: Context,
    lr: Learner,
    username: str,
    course: Course,
    outcome: Outcome,
    cert_at: float,
    info: dict[str, Any],
) -> None:
    """The certificate record and its award event."""
    ctx.files["lms/certificates.jsonl"].write(
        {
            "id": ctx.oids.new(cert_at),
            "title": f"{course.title} certificate",
            "issued": unix_seconds(ctx.shapes, cert_at),
            "attempts": 1,
            "type": "certificate",
            "status": "active",
            "score": certificate_score(outcome.average, ctx.odd_score_shape()),
            "short_url": f"https://school.example/certificate/{ctx.rng.getrandbits(40):010x}",
            "provider": "LearnWorlds",
            "external_url": None,
            "form": {"firstname": username.split(" ")[0], "lastname": username.split(" ")[-1]},
            "user": {"id": lr.id, "email": lr.email},
            "course_id": course.id,
        }
    )
    desc = f"Awarded certificate for {course.title}"
    _event(ctx, lr, username, cert_at, "award_certificate", desc, "award", info)


def write_learner(ctx: Context, first: str, last: str, email: str, company: str | None) -> Learner:
    """Write one LearnWorlds user with its activity; return what the HubSpot side needs."""
    rng = ctx.rng
    pools = ctx.pools
    span = ctx.as_of - ctx.history_start
    # Skewed towards recent sign-ups, like a growing school.
    created = ctx.as_of - span * rng.random() ** 2 - rng.uniform(3600, 2 * DAY)
    lr = Learner(id=ctx.oids.new(created), email=email, created=created)
    username = f"{first} {last}"
    city = rng.choice(pools.cities)
    country = rng.choice(pools.countries)
    billing = _billing(username, city, country)

    latest = created
    t = created
    n = rng.choices(_ENROLL_COUNTS, _ENROLL_WEIGHTS)[0]
    scale = ctx.activity_scale
    if scale != 1.0:
        n = min(len(COURSES), round(n * scale))
    for course in {c.id: c for c in rng.choices(COURSES, _COURSE_WEIGHTS, k=n)}.values():
        # Busier learners enrol more often, so the extra courses still fit before as_of.
        t = t + rng.expovariate(scale / (45 * DAY))
        if t >= ctx.as_of:
            break
        latest = max(latest, _enrollment(ctx, lr, username, course, t, billing))

    if created >= ctx.api_start:
        _event(ctx, lr, username, created, "register", "Registered", "user", {})
    last_login: float | None = None
    if rng.random() > 0.07:
        last_login = min(ctx.as_of - 1, latest + rng.uniform(60, 5 * DAY))
        start = max(created, ctx.api_start)
        for _ in range(rng.randint(0, 2)):
            if last_login > start:
                agent = {
                    "browser": rng.choice(pools.browsers),
                    "platform": rng.choice(pools.platforms),
                    "ip": rng.choice(pools.ips),
                    "country": country,
                    "city": city,
                    "location": {"lng": 0, "lat": 0},
                }
                _event(
                    ctx,
                    lr,
                    username,
                    rng.uniform(start, last_login),
                    "login",
                    "Logged in",
                    "user",
                    {"agent": agent},
                )

    ctx.files["lms/users.jsonl"].write(
        {
            "id": lr.id,
            "email": email,
            "username": username,
            # blank, as the webhook example shows for a learner who never gave a first name
            "first_name": "" if ctx.shapes.random() < 0.02 else first,
            "last_name": last,
            "subscribed_for_marketing_emails": rng.random() < 0.7,
            "eu_customer": country in ("DE", "FR", "NL", "ES"),
            "is_admin": False,
            "is_instructor": False,
            "is_suspended": rng.random() < 0.01,
            "is_reporter": False,
            "is_affiliate": False,
            "role": {"level": "user", "name": "User"},
            "referrer_id": None,
            "created": lms_time(created),
            "last_login": lms_time(last_login) if last_login else None,
            "signup_approval_status": "passed",
            "fields": {
                "bio": None,
                "location": city,
                "url": None,
                "phone": None,
                "country": country,
                "company": company,
                "company_size": None,
                "university": None,
                **profiles.lms_fields(ctx.profile_seed, email),
            },
            "tags": [tag for tag in TAGS if rng.random() < 0.15],
            "utms": {
                "fc_utm_source": rng.choice(("google", "linkedin", "newsletter", None)),
                "fc_utm_medium": None,
                "fc_utm_campaign": None,
                "fc_landing": "/",
                "lc_utm_source": None,
                "lc_landing": "/",
            },
            "billing_info": billing if company else None,
            "nps_score": None,
            "nps_comment": None,
        }
    )
    return lr
