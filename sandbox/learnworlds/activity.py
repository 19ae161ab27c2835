"""New learner activity "now", recorded the way a real school records it.

Each generated step leaves the same traces the real school would: the records the API
serves (enrollment, progress, payment, grade, certificate), an event-log entry (with the
course id in `additional_info` for course events) and, where LearnWorlds has one, a webhook.
The result lists every id and timestamp so tests can check that extraction picks up exactly
this activity.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from faker import Faker
from pydantic import BaseModel, Field, ValidationError

from sandbox.learnworlds import events
from sandbox.learnworlds.context import Emulator
from sandbox.learnworlds.errors import LearnWorldsError
from sandbox.learnworlds.ids import object_id
from sandbox.learnworlds.records import ODD_SCORE_SHAPES, certificate_score, new_user, payment
from sandbox.learnworlds.store import Progress, Store

# The subscription plan learners buy and cancel. Guess: LearnWorlds subscription ids are slugs
# like its other product ids (`subscription-1` in the reference).
SUBSCRIPTION_PLAN = {"id": "pro-monthly", "title": "Pro (monthly)", "price": 29.0}
# Share of steps that finish a course the learner is already enrolled in (vs. enroll anew).
_COMPLETE_SHARE = 0.6
_GRADE_SHARE = 0.7
_CERTIFICATE_SHARE = 0.6


class ActivityRequest(BaseModel):
    """Body of `POST /_sandbox/activity`."""

    learners: int = Field(default=1, ge=0, le=1_000_000)
    events: int | None = Field(default=None, ge=0, le=1_000_000)
    new_users: int = Field(default=0, ge=0, le=1_000_000)
    # Subscription steps over the same learners (after the learning steps): a learner with no
    # running plan buys one, a learner with one cancels it.
    subscription_events: int = Field(default=0, ge=0, le=1_000_000)
    seed: int | None = None


class MutateRequest(BaseModel):
    fraction: float = Field(default=0.01, ge=0, le=1)
    seed: int | None = None


@dataclass
class ActivityReport:
    learners: list[str] = field(default_factory=list)
    new_users: list[str] = field(default_factory=list)
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    completions: list[dict[str, Any]] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    grades: list[str] = field(default_factory=list)
    event_logs: list[dict[str, Any]] = field(default_factory=list)
    # {user_id, event ("started" | "cancelled"), product_id, date}
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    webhooks: int = 0
    started_at: float = 0
    ended_at: float = 0


class _Clock:
    """Strictly increasing "now" stamps, so each event has its own `created`."""

    def __init__(self) -> None:
        self.last = time.time()

    def tick(self) -> float:
        self.last = max(time.time(), self.last + 1e-5)
        return round(self.last, 6)


class _Generator:
    def __init__(self, emulator: Emulator, seed: int | None) -> None:
        self.emulator = emulator
        self.store: Store = emulator.store
        self.rng = random.Random(seed)
        # value shapes (certificate score text) draw apart from rng: activity stays the same
        self.shapes = random.Random(f"value-shapes-{seed}")
        self.faker = Faker()
        self.faker.seed_instance(seed)
        self.clock = _Clock()
        self.report = ActivityReport(started_at=self.clock.last)
        self.webhooks_before = len(emulator.webhooks.log())
        # Assessment unit ids per course, reusing the dataset's when it has grades.
        self.units: dict[str, str] = {
            cid: rows[0].unit_id for cid, rows in self.store.grades_by_course.items() if rows
        }

    # -- traces ----------------------------------------------------------------------------

    def log_event(
        self, user: dict[str, Any], activity: str, kind: str | None, description: str, info: Any
    ) -> float:
        created = self.clock.tick()
        self.store.add_event_log(
            {
                "user": {"id": user["id"], "username": user.get("username")},
                "created": created,
                "activity": activity,
                "description": description,
                "type": kind,
                "additional_info": info,
            }
        )
        self.report.event_logs.append(
            {"user_id": user["id"], "activity": activity, "created": created}
        )
        return created

    # -- steps -----------------------------------------------------------------------------

    def register(self) -> None:
        now = self.clock.tick()
        first, last = self.faker.first_name(), self.faker.last_name()
        email = f"{first}.{last}.{self.rng.randrange(10**6)}@{self.faker.free_email_domain()}"
        user = new_user(object_id(now), email.lower(), f"{first} {last}", now)
        user.update(first_name=first, last_name=last, last_login=now)
        self.store.put_user(user)
        self.log_event(user, "register", "user", "Registered", {})
        events.user_updated(self.emulator, user)
        self.report.new_users.append(user["id"])

    def step(self, user_id: str) -> None:
        store = self.store
        enrolled = store.enrollments.get(user_id, {})
        progress = store.progress.get(user_id, {})
        unfinished = [
            cid
            for cid in enrolled
            if cid in store.courses and (cid not in progress or progress[cid].status != "completed")
        ]
        available = [cid for cid in store.courses_order if cid not in enrolled]
        if unfinished and (not available or self.rng.random() < _COMPLETE_SHARE):
            self.complete(user_id, self.rng.choice(unfinished))
        elif available:
            self.enroll(user_id, self.rng.choice(available))

    def enroll(self, user_id: str, course_id: str) -> None:
        store, course = self.store, self.store.courses[course_id]
        user = store.user(user_id)
        price = float(course.get("final_price") or 0)
        if price > 0:
            now = self.clock.tick()
            payment = self._payment(user, course, price, now)
            store.add_payment(payment)
            self.report.payments.append(payment["id"])
            info = {"course_id": course_id, "payment_id": payment["id"], "price": price}
            self.log_event(user, "purchase", "purchase", f"Purchased {course['title']}", info)
            events.product_bought(self.emulator, user, payment)
        else:
            info = {"course_id": course_id, "course_title": course.get("title")}
            now = self.log_event(
                user, "manual_enrollment", "user", f"Enrolled in {course['title']}", info
            )
            events.enrolled_free(self.emulator, user, course, now)
        created = int(now)
        store.put_enrollment(user_id, course_id, created, None)
        units = self.rng.randint(4, 12)
        store.put_progress(user_id, course_id, Progress("not_started", 0, 0, 0, units, 0, None))
        self.report.enrollments.append(
            {"user_id": user_id, "course_id": course_id, "created": created}
        )

    def complete(self, user_id: str, course_id: str) -> None:
        store, course = self.store, self.store.courses[course_id]
        user = store.user(user_id)
        before = store.progress.get(user_id, {}).get(course_id)
        units = before.total_units if before and before.total_units else self.rng.randint(4, 12)
        score = self.rng.randint(55, 100)
        info = {"course_id": course_id, "course_title": course.get("title")}
        now = self.log_event(user, "complete_course", "user", f"Completed {course['title']}", info)
        # The progress API reports completion times as whole seconds.
        completed_at = int(now)
        spent = (before.time_on_course if before else 0) + self.rng.randint(600, 20000)
        store.put_progress(
            user_id,
            course_id,
            Progress("completed", 100, score, spent, units, units, completed_at),
        )
        self.report.completions.append(
            {"user_id": user_id, "course_id": course_id, "completed_at": completed_at}
        )
        events.course_completed(self.emulator, user, course, now)
        if self.rng.random() < _GRADE_SHARE:
            self._grade(user, course_id, score)
        if self.rng.random() < _CERTIFICATE_SHARE:
            self._certificate(user, course_id, score)

    def subscription(self, user_id: str) -> None:
        """Buy the plan, or cancel it when the learner already has it running.

        Guess: the subscription's payment is not listed by GET /v2/payments here (the
        emulated school's payments are course purchases only); the webhook carries it.
        """
        store, plan = self.store, SUBSCRIPTION_PLAN
        user = store.user(user_id)
        running = store.subscriptions.pop(user_id, None)
        now = self.clock.tick()
        if running is None:
            store.subscriptions[user_id] = (plan["id"], now)
            product = {"id": plan["id"], "type": "subscription", "name": plan["title"]}
            sale = payment(
                payment_id=object_id(now),
                transaction_id=f"sub_{self.rng.getrandbits(96):024x}",
                product={**product, "final_price": plan["price"]},
                price=float(plan["price"]),
                user_id=user_id,
                billing_info=user.get("billing_info"),
                paid_at=now,
                created=now,
            )
            sale["type"] = "subscription"
            info = {"product_id": plan["id"], "payment_id": sale["id"]}
            self.log_event(user, "subscription_signup", "purchase", "Subscribed", info)
            events.subscription_bought(self.emulator, user, sale, now)
            kind = "started"
        else:
            events.subscription_canceled(
                self.emulator, user, events.product_ref(plan, "subscription"), now
            )
            kind = "cancelled"
        self.report.subscriptions.append(
            {"user_id": user_id, "event": kind, "product_id": plan["id"], "date": int(now)}
        )

    # -- records ---------------------------------------------------------------------------

    def _grade(self, user: dict[str, Any], course_id: str, score: int) -> None:
        now = self.clock.tick()
        unit = self.units.setdefault(course_id, object_id(now))
        grade_id = object_id(now)
        self.store.add_grade(
            {
                "id": grade_id,
                "user_id": user["id"],
                "email": user.get("email"),
                "grade": score,
                "created": now,
                "modified": now,
                "submittedTimestamp": now,
                "learningUnit": {
                    "type": "assessmentV2",
                    "id": unit,
                    "icon": "exam",
                    "subtitle": "Assessment",
                },
                "course_id": course_id,
            }
        )
        self.report.grades.append(grade_id)

    def _certificate(self, user: dict[str, Any], course_id: str, score: int) -> None:
        now = self.clock.tick()
        cert_id = object_id(now)
        certificate = {
            "id": cert_id,
            "title": "Certificate of completion",
            "issued": now,
            "attempts": 1,
            "type": "completion",
            "status": "active",
            "score": certificate_score(
                score,
                self.shapes.randrange(ODD_SCORE_SHAPES) if self.shapes.random() < 0.18 else None,
            ),
            "short_url": None,
            "provider": "LearnWorlds",
            "external_url": None,
            "form": {"firstname": user.get("first_name"), "lastname": user.get("last_name")},
            "user": {"id": user["id"], "email": user.get("email")},
            "course_id": course_id,
        }
        self.store.add_certificate(certificate)
        self.report.certificates.append(cert_id)
        info = {"course_id": course_id, "certificate_id": cert_id}
        self.log_event(user, "award_certificate", "award", "Awarded a certificate", info)
        events.awarded_certificate(self.emulator, user, certificate)

    def _payment(
        self, user: dict[str, Any], course: dict[str, Any], price: float, now: float
    ) -> dict[str, Any]:
        product = {
            "id": course["id"],
            "type": "course",
            "name": course.get("title"),
            "description": course.get("description"),
            "image": course.get("courseImage"),
            "trial_days": 0,
            "original_price": course.get("original_price", price),
            "discount_price": course.get("discount_price", 0),
            "final_price": price,
        }
        return payment(
            payment_id=object_id(now),
            transaction_id=f"ch_{self.rng.getrandbits(96):024x}",
            product=product,
            price=price,
            user_id=user["id"],
            billing_info=user.get("billing_info"),
            paid_at=now,
            created=now,
        )


def generate_activity(
    emulator: Emulator,
    *,
    learners: int,
    events_count: int | None = None,
    new_users: int = 0,
    subscription_events: int = 0,
    seed: int | None = None,
) -> dict[str, Any]:
    """`events_count` steps (default: one each) spread over `learners` existing learners, then
    `subscription_events` subscription steps over the same learners."""
    with emulator.lock:
        gen = _Generator(emulator, seed)
        for _ in range(new_users):
            gen.register()
        fresh = set(gen.report.new_users)
        pool = [uid for uid in emulator.store.users if uid not in fresh]
        chosen = gen.rng.sample(pool, min(learners, len(pool)))
        gen.report.learners = chosen
        steps = len(chosen) if events_count is None else events_count
        if chosen:
            for i in range(steps):
                gen.step(chosen[i % len(chosen)])
            for i in range(subscription_events):
                gen.subscription(chosen[i % len(chosen)])
        gen.report.ended_at = gen.clock.last
        gen.report.webhooks = len(emulator.webhooks.log()) - gen.webhooks_before
        return asdict(gen.report)


def mutate(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    """`/_sandbox/mutate`: new activity for `fraction` of the school's learners."""
    try:
        request = MutateRequest.model_validate(body)
    except ValidationError as exc:
        raise LearnWorldsError(422, str(exc.errors()[0]["msg"]), "fraction") from None
    total = len(emulator.store.users)
    learners = max(1, round(total * request.fraction)) if total and request.fraction > 0 else 0
    return generate_activity(emulator, learners=learners, seed=request.seed)
