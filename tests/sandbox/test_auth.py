"""Auth: the token verbatim or as `Bearer <token>`; the documented error shape otherwise."""

from __future__ import annotations

import httpx
import pytest

UNAUTHORIZED = {"success": False, "message": "Unauthorized: invalid or missing token"}


def test_a_request_without_a_token_is_401_in_the_provider_error_shape(sandbox):
    response = httpx.get(f"{sandbox.base_url}/agents")
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("value", ["wrong", "Bearer wrong", "bearer-sandbox-token", "Token sandbox-token"])
def test_a_wrong_token_is_401(sandbox, value):
    response = httpx.get(f"{sandbox.base_url}/agents", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


@pytest.mark.parametrize("form", ["{token}", "Bearer {token}"])
def test_the_token_is_accepted_verbatim_or_as_bearer(sandbox, form):
    headers = {"Authorization": form.format(token=sandbox.token)}
    response = httpx.get(f"{sandbox.base_url}/agents", headers=headers)
    assert response.status_code == 200
    assert isinstance(response.json(), list)


def test_login_with_any_credentials_returns_the_configured_token(sandbox):
    response = httpx.post(f"{sandbox.base_url}/auth/login", json={"email": "a@example.com", "password": "x"})
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "access_token": sandbox.token,
        "token_type": "bearer",
        "expires_in": 3600,
    }


@pytest.mark.parametrize("body", [{}, {"email": "a@example.com"}, {"email": "", "password": "x"}])
def test_login_without_both_credentials_is_refused(sandbox, body):
    response = httpx.post(f"{sandbox.base_url}/auth/login", json=body)
    assert response.status_code == 401
    assert response.json()["success"] is False


def test_the_control_api_needs_no_token(control):
    assert control.get("/state").status_code == 200


def test_a_token_changed_at_run_time_applies_until_reset(sandbox, control):
    control.post("/config", json={"token": "rotated"}).raise_for_status()
    assert httpx.get(f"{sandbox.base_url}/agents", headers={"Authorization": "sandbox-token"}).status_code == 401
    assert httpx.get(f"{sandbox.base_url}/agents", headers={"Authorization": "Bearer rotated"}).status_code == 200
    sandbox.reset()
    assert httpx.get(f"{sandbox.base_url}/agents", headers={"Authorization": "sandbox-token"}).status_code == 200
