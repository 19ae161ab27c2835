"""User writes against the live emulator: tags, PUT and POST /v2/users, sign-up rules, the
registration-email outbox, an admin's hand edits and the rate limit on writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from sandbox.learnworlds.config import SignupRules
from tests.sandbox.learnworlds_support import (
    WebhookSchool,
    running_school,
    school_with_webhooks,
)

TOO_MANY = {"error": "Too many requests"}


School = WebhookSchool


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[School]:
    with school_with_webhooks(tmp_path_factory.mktemp("lw_writes")) as school:
        yield school


@pytest.fixture
def lw(school: School) -> School:
    school.events()
    return school


def _tag_events(bodies: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [
        (b["type"], b["trigger"], b["data"]["tag"])
        for b in bodies
        if b["type"] in {"userTagAdded", "userTagDeleted"}
    ]


# -- PUT /v2/users/{id}/tags ----------------------------------------------------------------


def test_attach_adds_missing_tags_in_order_and_fires_one_event_per_new_tag(lw: School) -> None:
    api, user = lw.api, lw.ds.users[0]  # starts with ["vip"]
    response = api.send(
        "PUT",
        f"/v2/users/{user['id']}/tags",
        json={"tags": ["hot", "vip", "free", "hot"], "action": "attach"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == user["id"] and body["tags"] == ["vip", "hot", "free"]
    assert lw.user(user["id"]) == body
    events = lw.events()
    assert _tag_events(events) == [
        ("userTagAdded", "user_tag_added", "hot"),
        ("userTagAdded", "user_tag_added", "free"),
    ]
    first = events[0]
    assert first["version"] == 2 and first["school_id"] == "60004a6de11ac0798538ccc2"
    # The user's fields sit at the top of `data`; there is no `user` key.
    assert "user" not in first["data"]
    assert first["data"]["id"] == user["id"] and first["data"]["email"] == user["email"]
    assert first["data"]["tags"] == ["vip", "hot", "free"]
    # Nothing new: no events, same user.
    again = api.send(
        "PUT", f"/v2/users/{user['id']}/tags", json={"tags": ["free"], "action": "attach"}
    )
    assert again.json()["tags"] == ["vip", "hot", "free"]
    assert lw.events() == []


def test_detach_by_email_removes_only_tags_the_user_had(lw: School) -> None:
    api, user = lw.api, lw.ds.users[5]  # starts with ["vip"]
    api.send("PUT", f"/v2/users/{user['id']}/tags", json={"tags": ["a", "b"], "action": "attach"})
    lw.events()
    response = api.send(
        "PUT",
        f"/v2/users/{quote(user['email'], safe='')}/tags",
        json={"tags": ["a", "never-had", "vip"], "action": "detach"},
    )
    assert response.status_code == 200
    assert response.json()["tags"] == ["b"]
    assert _tag_events(lw.events()) == [
        ("userTagDeleted", "user_tag_deleted", "vip"),
        ("userTagDeleted", "user_tag_deleted", "a"),
    ]
    # A tag change fires no userUpdated.
    assert lw.user(user["email"])["tags"] == ["b"]


@pytest.mark.parametrize(
    ("body", "context"),
    [
        ({"tags": ["x"]}, "action"),
        ({"tags": ["x"], "action": "toggle"}, "action"),
        ({"action": "attach"}, "tags"),
        ({"tags": "x", "action": "attach"}, "tags"),
    ],
)
def test_tags_body_needs_tags_and_a_valid_action(
    lw: School, body: dict[str, Any], context: str
) -> None:
    user = lw.ds.users[1]
    response = lw.api.send("PUT", f"/v2/users/{user['id']}/tags", json=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["success"] is False
    assert [e["code"] for e in payload["errors"]] == ["422"]
    assert payload["errors"][0]["context"] == context
    assert lw.user(user["id"])["tags"] == user["tags"]
    assert lw.events() == []


def test_tags_of_an_unknown_user_is_a_404(lw: School) -> None:
    response = lw.api.send(
        "PUT", "/v2/users/nobody%40example.com/tags", json={"tags": ["x"], "action": "attach"}
    )
    assert response.status_code == 404
    assert response.json() == {"error": "Sorry the resource your trying to access does not exist."}


# -- PUT /v2/users/{id} ---------------------------------------------------------------------


def test_put_writes_the_model_keys_and_ignores_the_rest(lw: School) -> None:
    api, user = lw.api, lw.ds.users[2]
    before = lw.user(user["id"])
    response = api.send(
        "PUT",
        f"/v2/users/{user['id']}",
        json={
            "username": "renamed",
            "subscribed_for_marketing_emails": True,
            "is_admin": True,
            "fields": {"bio": "hi", "cf_skill": "sql", "not_a_field": "x"},
            "utms": {"fc_utm_source": "hubspot", "fc_source": "old-name"},
            # Not in UserRequestPutModel: ignored.
            "first_name": "Ignored",
            "last_name": "Ignored",
            "billing_info": {"bf_name": "Ignored"},
            "password": "secret",
            "role": "reporter",
            "is_suspended": True,
        },
    )
    assert response.status_code == 200, response.text
    after = response.json()
    assert after == lw.user(user["id"])
    assert after["username"] == "renamed"
    assert after["subscribed_for_marketing_emails"] is True
    assert after["is_admin"] is True and after["role"] == {"level": "admin", "name": "Admin"}
    assert after["fields"] == {**before["fields"], "bio": "hi", "cf_skill": "sql"}
    assert after["utms"] == {**before["utms"], "fc_utm_source": "hubspot"}
    for kept in ("first_name", "last_name", "billing_info", "is_suspended", "email", "tags"):
        assert after[kept] == before[kept], kept
    assert "password" not in after
    [event] = lw.events()
    assert event["type"] == "userUpdated" and event["data"]["user"]["username"] == "renamed"


def test_put_tags_replace_the_set_and_fire_the_differences(lw: School) -> None:
    api, user = lw.api, lw.ds.users[10]  # starts with ["vip"]
    response = api.send("PUT", f"/v2/users/{user['id']}", json={"tags": ["new", "other", "new"]})
    assert response.json()["tags"] == ["new", "other"]
    events = lw.events()
    assert events[0]["type"] == "userUpdated"
    assert _tag_events(events) == [
        ("userTagAdded", "user_tag_added", "new"),
        ("userTagAdded", "user_tag_added", "other"),
        ("userTagDeleted", "user_tag_deleted", "vip"),
    ]


def test_put_email_is_format_checked_and_must_be_free(lw: School) -> None:
    api, user, other = lw.api, lw.ds.users[4], lw.ds.users[6]
    bad = api.send("PUT", f"/v2/users/{user['id']}", json={"email": "not-an-email"})
    assert bad.status_code == 422
    assert bad.json()["success"] is False and bad.json()["errors"][0]["context"] == "email"
    taken = api.send("PUT", f"/v2/users/{user['id']}", json={"email": other["email"].upper()})
    assert taken.status_code == 400
    assert taken.json() == {
        "errors": [
            {"code": "400", "context": "email", "message": "The email has already been taken."}
        ],
        "success": False,
    }
    moved = api.send("PUT", f"/v2/users/{user['id']}", json={"email": "moved@example.org"})
    assert moved.status_code == 200
    assert lw.user("moved@example.org")["id"] == user["id"]
    assert api.get(f"/v2/users/{quote(user['email'], safe='')}").status_code == 404
    lw.events()


BAD_FIELDS = {
    "phone": "call me",
    "url": "example.com",
    "linkedin": "ftp://x.org",
    "birthday": "31/12/1990",
    "graduation_year": "2010",
    "bio": "x" * 256,
}


def test_signup_rules_reject_with_the_spec_shape_and_store_nothing(lw: School) -> None:
    api, user = lw.api, lw.ds.users[7]
    before = lw.user(user["id"])
    response = api.send(
        "PUT",
        f"/v2/users/{user['id']}",
        json={"signup_validation_rules": True, "username": "x", "fields": BAD_FIELDS},
    )
    assert response.status_code == 422
    assert response.json() == {
        "statusCode": 422,
        "error": "Validation Failed",
        "message": "Your input had some validation errors.",
        "errors": {
            "phone": [{"0": "The 'Phone' field must be a valid phone number."}],
            "url": [{"0": "The 'Url' field must be a valid URL."}],
            "linkedin": [{"0": "The 'Linkedin' field must be a valid URL."}],
            "birthday": [{"0": "The 'Birthday' field must be a date in the format YYYY-MM-DD."}],
            "graduation_year": [
                {"0": "The 'Graduation year' field must be a date in the format YYYY-MM-DD."}
            ],
            "bio": [{"0": "The 'Bio' field may not be greater than 255 characters."}],
        },
    }
    assert lw.user(user["id"]) == before
    assert lw.events() == []


def test_without_the_flag_values_are_stored_unvalidated(lw: School) -> None:
    api, user = lw.api, lw.ds.users[8]
    response = api.send("PUT", f"/v2/users/{user['id']}", json={"fields": BAD_FIELDS})
    assert response.status_code == 200
    stored = lw.user(user["id"])["fields"]
    assert {k: stored[k] for k in BAD_FIELDS} == BAD_FIELDS
    lw.events()


def test_good_values_pass_the_rules(lw: School) -> None:
    api, user = lw.api, lw.ds.users[11]
    fields = {
        "phone": "+30 (210) 123-4567",
        "url": "https://example.com/me",
        "github": "http://github.com/me",
        "birthday": "1990-12-31",
        "graduation_year": "2010-06-30",
        "company": "",
        "country": None,
    }
    response = api.send(
        "PUT", f"/v2/users/{user['id']}", json={"signup_validation_rules": True, "fields": fields}
    )
    assert response.status_code == 200, response.text
    assert {k: response.json()["fields"][k] for k in fields} == fields
    for phone in ("12345", "+1 234 567 890 123 456 789 01", "+1-800-FLOWERS", "1+2345678"):
        bad = api.send(
            "PUT",
            f"/v2/users/{user['id']}",
            json={"signup_validation_rules": True, "fields": {"phone": phone}},
        )
        assert bad.status_code == 422, phone
        assert list(bad.json()["errors"]) == ["phone"]
    lw.events()


def test_required_fields_are_a_runtime_setting(lw: School) -> None:
    api, user = lw.api, lw.ds.users[12]
    assert api.control("GET", "/signup-rules")["required_fields"] == []
    api.control("POST", "/signup-rules", json={"required_fields": ["cf_licence", "company"]})
    try:
        missing = api.send(
            "PUT",
            f"/v2/users/{user['id']}",
            json={"signup_validation_rules": True, "fields": {"cf_licence": ""}},
        )
        assert missing.status_code == 422
        assert missing.json()["errors"] == {
            "cf_licence": [{"0": "The 'Licence' field is required."}]
        }
        ok = api.send(
            "PUT",
            f"/v2/users/{user['id']}",
            json={"signup_validation_rules": True, "fields": {"cf_licence": "EA1"}},
        )
        assert ok.status_code == 200
        # Without the flag the rules do not apply at all.
        created = api.send(
            "POST", "/v2/users", json={"email": "norules@example.org", "username": "n"}
        )
        assert created.status_code == 201
    finally:
        api.control("POST", "/signup-rules", json={})
    lw.events()


# -- POST /v2/users --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "context"),
    [({"email": "a@example.org"}, "username"), ({"username": "a"}, "email")],
)
def test_create_needs_email_and_username(lw: School, body: dict[str, Any], context: str) -> None:
    response = lw.api.send("POST", "/v2/users", json=body)
    assert response.status_code == 422
    assert response.json()["success"] is False
    assert [e["context"] for e in response.json()["errors"]] == [context]


def test_create_returns_the_user_and_fires_only_user_updated(lw: School) -> None:
    response = lw.api.send(
        "POST",
        "/v2/users",
        json={
            "email": "Created@Example.org",
            "username": "created",
            "password": "pw",
            "subscribed_for_marketing_emails": None,
            "is_admin": False,
            "signup_validation_rules": True,
            "send_registration_email": False,
            "fields": {"company": "Acme", "cf_skill": "Excel", "phone": "+44 20 7946 0958"},
            "tags": ["trial", "trial", "hubspot"],
            "utms": {"fc_utm_source": "Facebook", "lc_landing": "/"},
            "first_name": "Ignored",
        },
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert user == lw.user("created@example.org")
    assert user["email"] == "Created@Example.org" and user["username"] == "created"
    assert user["first_name"] is None and "password" not in user
    assert user["subscribed_for_marketing_emails"] is False and user["is_admin"] is False
    assert user["tags"] == ["trial", "hubspot"]
    assert user["fields"]["company"] == "Acme" and user["fields"]["cf_skill"] == "Excel"
    assert user["utms"]["fc_utm_source"] == "Facebook" and user["utms"]["lc_landing"] == "/"
    assert int(user["id"][:8], 16) == int(user["created"])
    [event] = lw.events()
    assert event["type"] == "userUpdated" and event["data"]["user"]["id"] == user["id"]
    assert not any(e["user_id"] == user["id"] for e in lw.api.control("GET", "/outbox")["emails"])
    taken = lw.api.send("POST", "/v2/users", json={"email": "created@example.org", "username": "x"})
    assert taken.status_code == 400 and taken.json()["errors"][0]["context"] == "email"


def test_create_with_rules_rejects_bad_fields_and_creates_nothing(lw: School) -> None:
    before = lw.api.control("GET", "/state")["users"]
    response = lw.api.send(
        "POST",
        "/v2/users",
        json={
            "email": "ruled@example.org",
            "username": "ruled",
            "signup_validation_rules": True,
            "fields": {"phone": "n/a", "birthday": "1990-02-30"},
        },
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"phone", "birthday"}
    assert lw.api.control("GET", "/state")["users"] == before
    assert lw.api.get("/v2/users/ruled%40example.org").status_code == 404
    assert lw.events() == []


def test_registration_emails_land_in_the_outbox(lw: School) -> None:
    api = lw.api
    sent = {}
    for name, flag in (("yes", True), ("no", False), ("default", None)):
        body: dict[str, Any] = {"email": f"outbox-{name}@example.org", "username": name}
        if flag is not None:
            body["send_registration_email"] = flag
        sent[name] = api.send("POST", "/v2/users", json=body).json()["id"]
    emails = {e["user_id"]: e for e in api.control("GET", "/outbox")["emails"]}
    assert sent["no"] not in emails
    for name in ("yes", "default"):
        email = emails[sent[name]]
        assert email["type"] == "registration"
        assert email["to"] == f"outbox-{name}@example.org" and email["username"] == name
        assert isinstance(email["sent_at"], float)
    assert api.control("POST", "/outbox/clear") == {"status": "cleared"}
    assert api.control("GET", "/outbox") == {"emails": []}
    lw.events()


# -- POST /_sandbox/users/{id_or_email}/edit -------------------------------------------------


def test_hand_edit_sets_what_the_api_cannot_and_fires_ui_webhooks(lw: School) -> None:
    api, user = lw.api, lw.ds.users[15]  # starts with ["vip"]
    edited = api.control(
        "POST",
        f"/users/{quote(user['email'], safe='')}/edit",
        json={
            "first_name": "Ada",
            "last_name": None,
            "username": "ada",
            "email": "ada@example.org",
            "subscribed_for_marketing_emails": True,
            # No sign-up rules for an admin's edit.
            "fields": {"phone": "not a phone", "cf_skill": "math"},
            "tags": ["vip", "mentor"],
            "billing_info": {"bf_name": "Ada L", "bf_country": "UK"},
            "utms": {"lc_utm_source": "newsletter"},
        },
    )
    assert edited == lw.user("ada@example.org")
    assert edited["first_name"] == "Ada" and edited["last_name"] is None
    assert edited["username"] == "ada" and edited["subscribed_for_marketing_emails"] is True
    assert edited["fields"]["phone"] == "not a phone" and edited["fields"]["cf_skill"] == "math"
    assert edited["tags"] == ["vip", "mentor"]
    assert edited["billing_info"] == {"bf_name": "Ada L", "bf_country": "UK"}
    assert edited["utms"]["lc_utm_source"] == "newsletter"
    events = lw.events()
    assert events[0]["type"] == "userUpdated"
    assert events[0]["data"]["user"]["first_name"] == "Ada"
    assert _tag_events(events) == [("userTagAdded", "user_tag_added", "mentor")]
    # Keys not sent are left alone.
    again = api.control("POST", f"/users/{user['id']}/edit", json={"last_name": "Lovelace"})
    assert again["first_name"] == "Ada" and again["last_name"] == "Lovelace"
    assert again["billing_info"] == {"bf_name": "Ada L", "bf_country": "UK"}
    lw.events()


def test_hand_edit_errors(lw: School) -> None:
    http, user = lw.api.http, lw.ds.users[16]
    bad_email = http.post(f"/_sandbox/users/{user['id']}/edit", json={"email": "nope"})
    assert bad_email.status_code == 422 and bad_email.json()["success"] is False
    typo = http.post(f"/_sandbox/users/{user['id']}/edit", json={"frist_name": "x"})
    assert typo.status_code == 422
    taken = http.post(
        f"/_sandbox/users/{user['id']}/edit", json={"email": lw.ds.users[17]["email"]}
    )
    assert taken.status_code == 400
    missing = http.post("/_sandbox/users/nobody%40example.com/edit", json={})
    assert missing.status_code == 404
    assert lw.events() == []


# -- rate limit -------------------------------------------------------------------------------


def test_writes_count_against_the_limit_and_hand_edits_do_not(tmp_path: Path) -> None:
    with running_school(tmp_path) as (api, ds, _):
        api.mint()
        api.control("POST", "/chaos", json={"rate_max": 3, "rate_interval_ms": 60_000})
        user = ds.users[1]
        tags = f"/v2/users/{user['id']}/tags"
        statuses = [
            api.send("PUT", tags, json={"tags": ["a"], "action": "attach"}).status_code,
            api.send("PUT", f"/v2/users/{user['id']}", json={"username": "u"}).status_code,
            api.send("POST", "/v2/users", json={"email": "r@example.org", "username": "r"}),
        ]
        assert statuses[:2] == [200, 200] and statuses[2].status_code == 201
        for method, path, body in (
            ("PUT", tags, {"tags": ["b"], "action": "attach"}),
            ("PUT", f"/v2/users/{user['id']}", {"username": "late"}),
            ("POST", "/v2/users", {"email": "late@example.org", "username": "late"}),
        ):
            response = api.send(method, path, json=body)
            assert response.status_code == 429
            assert response.json() == TOO_MANY
        # The rejected writes changed nothing; an admin's edits are not API calls.
        for n in range(5):
            api.control("POST", f"/users/{user['id']}/edit", json={"last_name": f"L{n}"})
        api.control("POST", "/chaos", json={})
        now = api.get(f"/v2/users/{user['id']}").json()
        assert now["tags"] == ["a"] and now["username"] == "u" and now["last_name"] == "L4"
        assert api.get("/v2/users/late%40example.org").status_code == 404
        calls = api.control("GET", "/calls")
        assert calls["status_429"] == 3 and calls["write_calls"] == 3


def test_rules_and_email_default_come_from_the_config_and_reset_restores_them(
    tmp_path: Path,
) -> None:
    rules = SignupRules(required_fields=("cf_licence",), max_length=5)
    with running_school(tmp_path, signup_rules=rules, registration_email_default=False) as (
        api,
        _,
        _,
    ):
        body = {"email": "c@example.org", "username": "c", "signup_validation_rules": True}
        refused = api.send("POST", "/v2/users", json={**body, "fields": {"bio": "too long"}})
        assert refused.status_code == 422
        assert refused.json()["errors"] == {
            "bio": [{"0": "The 'Bio' field may not be greater than 5 characters."}],
            "cf_licence": [{"0": "The 'Licence' field is required."}],
        }
        created = api.send("POST", "/v2/users", json={**body, "fields": {"cf_licence": "L1"}})
        assert created.status_code == 201
        # `send_registration_email` absent: the configured default (here: do not send).
        assert api.control("GET", "/outbox") == {"emails": []}
        api.control("POST", "/signup-rules", json={})
        assert api.control("GET", "/signup-rules")["required_fields"] == []
        api.control("POST", "/reset")
        assert api.control("GET", "/signup-rules")["required_fields"] == ["cf_licence"]


# -- POST /_sandbox/users/{id_or_email}/delete -----------------------------------------------


def test_hand_delete_makes_the_user_unknown_keeps_history_and_fires_nothing(lw: School) -> None:
    api, user = lw.api, lw.ds.users[44]  # completed intro-to-analytics: a certificate, a grade
    uid, course = user["id"], "intro-to-analytics"
    assert any(c["user"]["id"] == uid for c in api.all_pages("/v2/certificates", course_id=course))
    deleted = api.control("POST", f"/users/{quote(user['email'], safe='')}/delete")
    assert deleted == {"id": uid, "status": "deleted"}
    for path in (f"/v2/users/{uid}", f"/v2/users/{uid}/courses", f"/v2/users/{uid}/progress"):
        assert api.get(path).status_code == 404, path
    assert uid not in {u["id"] for u in api.all_pages("/v2/users", include_suspended="true")}
    assert uid not in {u["id"] for u in api.all_pages(f"/v2/courses/{course}/users")}
    certificates = api.all_pages("/v2/certificates", course_id=course)
    assert certificates and all(c["user"]["id"] != uid for c in certificates)
    grades = api.all_pages(f"/v2/courses/{course}/grades")
    assert grades and all(g["user_id"] != uid for g in grades)
    assert any(e["user"]["id"] == uid for e in api.all_pages("/v2/event-logs"))
    assert lw.events() == []
    missing = api.http.post(f"/_sandbox/users/{uid}/delete")
    assert missing.status_code == 404
