"""Who may open each agents page and API: the role matrix, and sign-in lockout."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "agent", "supervisor", "superuser")

# (method, path, expected status per role). Anonymous pages redirect to sign-in; the API
# answers 401. Agents are refused (403). Supervisors and superusers get in.
MATRIX = [
    ("get", "/agents/", {"anonymous": 302, "agent": 403, "supervisor": 200, "superuser": 200}),
    ("get", "/agents/new/", {"anonymous": 302, "agent": 403, "supervisor": 200, "superuser": 200}),
    ("post", "/agents/sync/", {"anonymous": 302, "agent": 403, "supervisor": 302, "superuser": 302}),
    ("get", "/api/v1/agents/", {"anonymous": 401, "agent": 403, "supervisor": 200, "superuser": 200}),
    ("post", "/api/v1/agents/", {"anonymous": 401, "agent": 403, "supervisor": 400, "superuser": 400}),
    ("post", "/api/v1/agents/sync/", {"anonymous": 401, "agent": 403, "supervisor": 200, "superuser": 200}),
]


@pytest.fixture
def as_role(make_user):
    def login(role: str) -> Client:
        client = Client()
        if role != "anonymous":
            client.force_login(make_user(f"user-{role}", role=None if role == "anonymous" else role))
        return client

    return login


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_role_matrix(smartflo, as_role, role, method, path, expected):
    client = as_role(role)
    if method == "post" and path.startswith("/api/"):
        response = client.post(path, {}, content_type="application/json")
    else:
        response = getattr(client, method)(path)
    assert response.status_code == expected[role], response.content[:300]
    if role == "anonymous" and expected[role] == 302:
        assert response["Location"].startswith("/accounts/login/")
    if role == "agent":
        # refused before anything reached Smartflo
        assert smartflo.requests(path="/v1/agents") == [] and smartflo.requests(path="/v1/agent") == []


def test_agents_cannot_sync_or_create_even_with_a_valid_body(smartflo, as_role):
    client = as_role("agent")
    response = client.post(
        "/api/v1/agents/", {"name": "X", "follow_me_number": "9876500042"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert smartflo.requests(path="/v1/agent") == []


def test_repeated_failed_sign_ins_lock_out(make_user, settings):
    make_user("asha", role="agent", password="the-right-passphrase")
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/accounts/login/", {"username": "asha", "password": "wrong"})
        assert response.status_code in (200, 429)
    locked = client.post("/accounts/login/", {"username": "asha", "password": "the-right-passphrase"})
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert f"locked for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes".encode() in locked.content
    assert "_auth_user_id" not in client.session


def test_a_few_failures_then_the_right_password_still_signs_in(make_user):
    make_user("asha", role="agent", password="the-right-passphrase")
    client = Client(REMOTE_ADDR="10.0.0.8")
    for _ in range(2):
        client.post("/accounts/login/", {"username": "asha", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "asha", "password": "the-right-passphrase"})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session
