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


def test_a_signed_out_htmx_part_sends_the_page_to_sign_in_instead_of_swapping_the_form_in(client):
    """The records sync line polls; the session ended meanwhile (contactcenter/core/middleware.py)."""
    page = "http://testserver/calls/records/?from=2026-03-01&status=missed"
    response = client.get("/calls/records/sync/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=page)
    assert response.status_code == 401
    assert response["HX-Redirect"] == "/accounts/login/?next=/calls/records/%3Ffrom%3D2026-03-01%26status%3Dmissed"
    assert b"<form" not in response.content

    elsewhere = client.get("/calls/alerts/", HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example/x")
    assert (elsewhere.status_code, elsewhere["HX-Redirect"]) == (401, "/accounts/login/?next=/")

    plain = client.get("/calls/records/sync/")  # not HTMX: the usual redirect
    assert (plain.status_code, plain["Location"]) == (302, "/accounts/login/?next=/calls/records/sync/")


def test_other_htmx_redirects_are_left_alone(rf):
    from django.shortcuts import redirect

    from contactcenter.core.middleware import HtmxSignInMiddleware

    middleware = HtmxSignInMiddleware(lambda request: redirect("/calls/records/"))
    response = middleware(rf.get("/calls/records/sync/", HTTP_HX_REQUEST="true"))
    assert (response.status_code, response["Location"]) == (302, "/calls/records/")
    assert "HX-Redirect" not in response
