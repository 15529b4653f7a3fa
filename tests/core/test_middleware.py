"""The fast lane: the masking resolve endpoint skips the browser middleware, nothing else does."""

import pytest
from django.test import Client

from contactcenter.core.middleware import FAST_LANE

pytestmark = pytest.mark.django_db


def test_resolve_skips_session_csrf_and_lockout_middleware(settings):
    settings.MASKING_API_TOKEN = "tok"
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/v1/masking/resolve/",
        {"caller_id_number": "9876543210", "call_to_number": "8069000100"},
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer tok",
    )
    assert response.status_code in (200, 404)  # answered by the view, not refused by CSRF
    assert "Vary" not in response or "Cookie" not in response["Vary"]  # no session middleware ran
    assert "X-Frame-Options" not in response  # clickjacking middleware did not run either


def test_other_paths_still_get_the_full_stack(client):
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"


def test_only_the_resolve_endpoint_is_in_the_fast_lane():
    assert set(FAST_LANE.values()) == {"masking.apis.masking_resolve_api"}
