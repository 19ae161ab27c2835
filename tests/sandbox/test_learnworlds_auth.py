"""Token endpoint and bearer checks of the LearnWorlds emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.learnworlds_support import CLIENT_ID, CLIENT_SECRET, Api, running_school

TOKEN_PATH = "/admin/api/oauth2/access_token"
CREDS = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_school(tmp_path_factory.mktemp("lw_auth")) as (api, _, _):
        yield api


def _assert_token_body(body: dict, expires_in: float = 8000) -> str:
    assert body["success"] is True and body["errors"] == []
    data = body["tokenData"]
    assert data["token_type"] == "Bearer"
    assert data["expires_in"] == expires_in
    assert len(data["access_token"]) == 40
    return str(data["access_token"])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"json": CREDS},
        {"data": {"data": json.dumps(CREDS)}},
        {"data": CREDS},
    ],
    ids=["json", "form-data-field", "plain-form"],
)
def test_token_accepts_the_three_body_encodings(school: Api, kwargs: dict) -> None:
    response = school.http.post(TOKEN_PATH, headers={"Lw-Client": CLIENT_ID}, **kwargs)
    assert response.status_code == 200
    token = _assert_token_body(response.json())
    data = school.http.get(
        "/admin/api/v2/courses",
        headers={"Lw-Client": CLIENT_ID, "Authorization": f"Bearer {token}"},
    )
    assert data.status_code == 200


def test_token_without_lw_client_header_is_a_client_id_error(school: Api) -> None:
    response = school.http.post(TOKEN_PATH, json=CREDS)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "code": "400",
                "context": "client_id",
                "message": "Missing client_id or client cannot be found.",
            }
        ],
        "success": False,
    }


def test_wrong_secret_is_access_denied_and_not_echoed(school: Api) -> None:
    response = school.http.post(
        TOKEN_PATH,
        headers={"Lw-Client": CLIENT_ID},
        json={**CREDS, "client_secret": "not-the-secret-xyz"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False
    assert body["errors"][0]["context"] == "access_denied"
    assert "not-the-secret-xyz" not in response.text


def test_wrong_grant_type_and_garbage_body_are_400_not_500(school: Api) -> None:
    wrong_grant = school.http.post(
        TOKEN_PATH, headers={"Lw-Client": CLIENT_ID}, json={**CREDS, "grant_type": "password"}
    )
    garbage = school.http.post(
        TOKEN_PATH,
        headers={"Lw-Client": CLIENT_ID, "Content-Type": "application/json"},
        content=b"{not json",
    )
    for response in (wrong_grant, garbage):
        assert response.status_code == 400
        assert response.json()["success"] is False


def test_data_calls_need_a_valid_bearer(school: Api) -> None:
    no_token = school.http.get("/admin/api/v2/users", headers={"Lw-Client": CLIENT_ID})
    bad_token = school.http.get(
        "/admin/api/v2/users",
        headers={"Lw-Client": CLIENT_ID, "Authorization": "Bearer " + "x" * 40},
    )
    for response in (no_token, bad_token):
        assert response.status_code == 401
        body = response.json()
        assert body["success"] is False
        assert body["errors"][0]["code"] == "401"
        assert body["errors"][0]["context"] is None
        assert body["errors"][0]["message"]


def test_data_calls_need_the_lw_client_header(school: Api) -> None:
    token = school.mint()
    response = school.http.get("/admin/api/v2/users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["context"] == "client_id"


def test_token_expires_after_the_runtime_ttl(school: Api) -> None:
    school.control("POST", "/chaos", json={"token_ttl_s": 0})
    try:
        response = school.http.post(TOKEN_PATH, headers={"Lw-Client": CLIENT_ID}, json=CREDS)
        token = _assert_token_body(response.json(), expires_in=0)
        expired = school.http.get(
            "/admin/api/v2/users",
            headers={"Lw-Client": CLIENT_ID, "Authorization": f"Bearer {token}"},
        )
        assert expired.status_code == 401
    finally:
        school.control("POST", "/chaos", json={})
    fresh = school.mint()
    ok = school.http.get(
        "/admin/api/v2/users", headers={"Lw-Client": CLIENT_ID, "Authorization": f"Bearer {fresh}"}
    )
    assert ok.status_code == 200


def test_token_endpoint_defaults_to_the_configured_ttl(tmp_path: Path) -> None:
    with running_school(tmp_path, token_ttl_s=120) as (api, _, _):
        response = api.http.post(TOKEN_PATH, headers={"Lw-Client": CLIENT_ID}, json=CREDS)
        _assert_token_body(response.json(), expires_in=120)
