"""Helpers for the LearnWorlds emulator tests: a live server, a tiny dataset, a client."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import FastAPI

from sandbox.learnworlds import LearnWorldsConfig, create_app
from sandbox.learnworlds.records import ODD_SCORE_SHAPES, certificate_score
from sandbox.runner import free_port
from tests.sandbox.server_support import serve

CLIENT_ID = "sandbox-client"
CLIENT_SECRET = "sandbox-secret"
BASE_TIME = 1_700_000_000.0
N_USERS = 45
COURSES = [
    # id, title, access, final_price, categories, created offset (s)
    ("intro-to-analytics", "Intro to Analytics", "free", 0, ["product-demo"], 10),
    ("advanced-pipelines", "Advanced Pipelines", "paid", 199, ["certification"], 20),
    ("sales-bootcamp", "Sales Bootcamp", "paid", 99, ["instructor-led"], 30),
    ("quick-start", "Quick Start", "free", 0, ["product-demo", "onboarding"], 40),
]


def oid(created: float, n: int) -> str:
    return f"{int(created):08x}{n:016x}"


def user_record(i: int) -> dict[str, Any]:
    created = BASE_TIME + i * 3600 + 0.25
    return {
        "id": oid(created, i),
        "email": f"Learner{i}@Example.com" if i == 3 else f"learner{i}@example.com",
        "username": f"learner{i}",
        "first_name": f"First{i}",
        "last_name": f"Last{i}",
        "subscribed_for_marketing_emails": i % 2 == 0,
        "is_suspended": i % 10 == 9,
        "role": {"level": "instructor" if i == 5 else "user", "name": "User"},
        "created": created,
        "last_login": None if i % 7 == 0 else created + 60,
        "fields": {"company": f"Co{i % 4}", "cf_skill": "trainer" if i % 3 == 0 else "analyst"},
        "tags": ["vip"] if i % 5 == 0 else [],
        "utms": {"fc_utm_source": None},
        "billing_info": None,
    }


def course_record(spec: tuple[Any, ...]) -> dict[str, Any]:
    cid, title, access, price, categories, offset = spec
    return {
        "id": cid,
        "title": title,
        "description": f"{title} course",
        "access": access,
        "categories": categories,
        "original_price": price,
        "discount_price": 0,
        "final_price": price,
        "created": BASE_TIME - 10_000 + offset,
        "modified": BASE_TIME - 5_000 + offset,
    }


def _score_shape(index: int) -> int | None:
    shape = index % (ODD_SCORE_SHAPES + 1)
    return shape if shape < ODD_SCORE_SHAPES else None


@dataclass
class Dataset:
    path: Path
    users: list[dict[str, Any]] = field(default_factory=list)
    courses: list[dict[str, Any]] = field(default_factory=list)
    enrollments: list[dict[str, Any]] = field(default_factory=list)
    progress: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    grades: list[dict[str, Any]] = field(default_factory=list)
    event_logs: list[dict[str, Any]] = field(default_factory=list)


def build_dataset(root: Path) -> Dataset:
    """A small school: 45 users, 4 courses, every user enrolled in 1-3 courses."""
    ds = Dataset(path=root)
    ds.courses = [course_record(c) for c in COURSES]
    for i in range(N_USERS):
        user = user_record(i)
        ds.users.append(user)
        for k in range(1 + i % 3):
            course = ds.courses[(i + k) % len(ds.courses)]
            enrolled = user["created"] + 100 + k
            ds.enrollments.append(
                {
                    "user_id": user["id"],
                    "course_id": course["id"],
                    "created": int(enrolled),
                    "expires": None,
                }
            )
            done = (i + k) % 2 == 0
            ds.progress.append(
                {
                    "user_id": user["id"],
                    "course_id": course["id"],
                    "status": "completed" if done else "not_completed",
                    "progress_rate": 100 if done else 40,
                    "average_score_rate": 80 if done else 0,
                    "time_on_course": 1000 + i,
                    "total_units": 5,
                    "completed_units": 5 if done else 2,
                    "completed_at": int(enrolled + 500) if done else None,
                }
            )
            ds.event_logs.append(
                {
                    "user": {"id": user["id"], "username": user["username"]},
                    "created": enrolled,
                    "activity": "manual_enrollment",
                    "description": "Enrolled",
                    "type": "user",
                    "additional_info": {"course_id": course["id"]},
                }
            )
            if done:
                issued = enrolled + 600
                ds.certificates.append(
                    {
                        "id": oid(issued, 1000 + len(ds.certificates)),
                        "title": "Certificate of completion",
                        "issued": issued,
                        "type": "completion",
                        "status": "active",
                        # every documented score shape: "80", "OK", "80.5", "", null
                        "score": certificate_score(80, _score_shape(len(ds.certificates))),
                        "user": {"id": user["id"], "email": user["email"]},
                        "course_id": course["id"],
                    }
                )
                ds.grades.append(
                    {
                        "id": oid(issued - 50, 2000 + len(ds.grades)),
                        "user_id": user["id"],
                        "email": user["email"],
                        "grade": 50 + (i * 7) % 50,
                        "created": issued - 50,
                        "modified": issued - 40,
                        # Submission order deliberately differs from creation order.
                        "submittedTimestamp": BASE_TIME + 10**6 - i,
                        "learningUnit": {"type": "assessmentV2", "id": oid(BASE_TIME, 7)},
                        "course_id": course["id"],
                    }
                )
            if course["final_price"]:
                ds.payments.append(
                    {
                        "id": oid(enrolled, 3000 + len(ds.payments)),
                        "type": "one-off",
                        "product": {"id": course["id"], "type": "course", "name": course["title"]},
                        "price": course["final_price"],
                        "refund_at": None,
                        "user_id": user["id"],
                        "paid_at": int(enrolled),
                        "created": enrolled,
                    }
                )
    lms = root / "lms"
    lms.mkdir(parents=True, exist_ok=True)
    for name in (
        "users",
        "courses",
        "enrollments",
        "progress",
        "certificates",
        "payments",
        "grades",
        "event_logs",
    ):
        rows = getattr(ds, name)
        (lms / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return ds


class Api:
    """A thin LearnWorlds client for tests (deliberately not our product's extractor)."""

    def __init__(self, base: str, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> None:
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=30)
        self.client_id = client_id
        self.secret = secret
        self.token: str | None = None

    def mint(self) -> str:
        response = self.http.post(
            "/admin/api/oauth2/access_token",
            headers={"Lw-Client": self.client_id},
            json={
                "client_id": self.client_id,
                "client_secret": self.secret,
                "grant_type": "client_credentials",
            },
        )
        response.raise_for_status()
        self.token = response.json()["tokenData"]["access_token"]
        return self.token

    def headers(self) -> dict[str, str]:
        if self.token is None:
            self.mint()
        return {"Lw-Client": self.client_id, "Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.http.get(f"/admin/api{path}", params=params, headers=self.headers())

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        return self.http.request(method, f"/admin/api{path}", headers=headers, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    def all_pages(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Walk a list the way the spec says to: stop at `meta.totalPages`, not on emptiness."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get(path, page=page, **params).json()
            rows.extend(body["data"])
            if body["meta"]["page"] >= body["meta"]["totalPages"]:
                return rows
            page += 1

    def close(self) -> None:
        self.http.close()


@contextmanager
def running_school(tmp: Path, **config: Any) -> Iterator[tuple[Api, Dataset, FastAPI]]:
    """A live emulator loaded with the tiny dataset; rate limit off unless asked for."""
    config.setdefault("rate_max", 100_000)
    app = create_app(LearnWorldsConfig(**config))
    ds = build_dataset(tmp)
    with serve(app, lifespan="on") as base:
        api = Api(base)
        api.control("POST", "/load", json={"path": str(tmp)})
        try:
            yield api, ds, app
        finally:
            api.close()


class Receiver:
    """A webhook endpoint that records deliveries and can fail the first `fail_first` ones."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.received: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append((dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_for_webhooks(api: Api, timeout: float = 20) -> dict[str, Any]:
    """Poll the delivery log until nothing is pending."""
    deadline = time.monotonic() + timeout
    while True:
        log = api.control("GET", "/webhooks")
        if log["pending"] == 0 or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


class WebhookSchool:
    """A running emulator with a webhook receiver: its API, its dataset, the webhooks sent."""

    def __init__(self, api: Api, ds: Dataset, receiver: Receiver) -> None:
        self.api = api
        self.ds = ds
        self.receiver = receiver

    def events(self) -> list[dict[str, Any]]:
        """Webhook bodies delivered since the last call, in delivery order."""
        wait_for_webhooks(self.api)
        bodies = [body for _, body in self.receiver.received]
        self.receiver.received.clear()
        return bodies

    def user(self, key: str) -> dict[str, Any]:
        response = self.api.get(f"/v2/users/{quote(key, safe='')}")
        assert response.status_code == 200, response.text
        return response.json()


@contextmanager
def school_with_webhooks(folder: Path) -> Iterator[WebhookSchool]:
    """A school serving a generated dataset, its webhooks delivered to a local receiver."""
    with Receiver() as receiver, running_school(folder) as (api, ds, _):
        api.control("POST", "/webhooks", json={"url": receiver.url})
        yield WebhookSchool(api, ds, receiver)
