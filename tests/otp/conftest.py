"""Fixtures for the voice OTP tests: an API client with a token, send/verify helpers, and the
code a user "heard" (read back from the sandbox's announcements)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.test import APIClient

PHONE = "9876543210"
E164 = "+919876543210"


@pytest.fixture(autouse=True)
def _fast_lead_retries(settings):
    """Task-level lead retries wait milliseconds, not seconds (the client's own backoff is
    already tiny under the `smartflo` fixture)."""
    settings.OTP_LEAD_RETRY_SECONDS = 0.01


def api_client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def backend(make_user):
    """The enterprise's backend: an API client with no role."""
    return make_user("backend")


@pytest.fixture
def api(backend) -> APIClient:
    return api_client_for(backend)


@pytest.fixture
def send(api, django_capture_on_commit_callbacks) -> Callable[..., Response]:
    """POST /api/v1/otp/send/ and run what the request queued on commit (the delivery task,
    eagerly in tests), as a real commit would."""

    def _send(phone: str = PHONE, *, client: APIClient | None = None) -> Response:
        with django_capture_on_commit_callbacks(execute=True):
            response = (client or api).post("/api/v1/otp/send/", {"phone": phone}, format="json")
        return response

    return _send


@pytest.fixture
def verify(api) -> Callable[..., Response]:
    def _verify(code: str, phone: str = PHONE, *, client: APIClient | None = None) -> Response:
        return (client or api).post("/api/v1/otp/verify/", {"phone": phone, "code": code}, format="json")

    return _verify


def heard_code(sandbox, phone: str = PHONE) -> str:
    """The code the sandbox's announcement call spoke last to `phone`."""
    announcements = sandbox.announcements(phone=phone)
    assert announcements, "no announcement call was made"
    return announcements[-1]["otp"]


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"
