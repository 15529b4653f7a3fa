"""Bad input at the API's edges is a 4xx in the API's shape, never a 500: bodies over Django's
upload limits, too many fields, ids too large for the database, bad page numbers."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    user = User.objects.create_superuser("boss", password="a-long-passphrase")
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=user).key}"
    return client


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["message"], body
    return body


def test_a_body_over_the_upload_limit_is_413(api, settings):
    big = json.dumps({"destination_number": "9876543210", "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    for url in ("/api/v1/calls/click-to-call/", "/api/v1/otp/send/", "/api/v1/masking/rules/"):
        body = error(api.post(url, big, content_type="application/json"), 413, "too_large")
        assert body["extra"] == {"max_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE}


def test_too_many_fields_is_400(api, settings):
    many = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    body = error(api.get(f"/api/v1/call-records/?{many}"), 400, "too_many_fields")
    assert body["extra"] == {"max_fields": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    error(api.post("/api/v1/otp/send/", many, content_type="application/x-www-form-urlencoded"), 400, "too_many_fields")


@pytest.mark.parametrize(
    "query",
    ["agent=99999999999999999999999", "agent=9223372036854775808", "outcome=99999999999999999999999",
     "outcome=" + "9" * 5000, "outcome=0", "page=abc", "page=0", "page=-1", "page=" + "9" * 5000,
     "page_size=abc", "page_size=0", "page_size=-5"],
)  # fmt: skip
def test_numbers_out_of_range_in_a_query_are_400_naming_the_field(api, query):
    body = error(api.get(f"/api/v1/call-records/?{query}"), 400, "invalid")
    assert list(body["extra"]["fields"]) == [query.split("=")[0]]


def test_a_page_past_the_last_is_404_and_page_size_applies(api):
    assert api.get("/api/v1/call-records/?page=1&page_size=5").status_code == 200
    assert api.get("/api/v1/call-records/?page=&page_size=").status_code == 200  # empty is absent, as before
    assert api.get("/api/v1/call-records/?page=last").status_code == 200  # DRF's own word
    error(api.get("/api/v1/call-records/?page_size=last"), 400, "invalid")
    error(api.get("/api/v1/call-records/?page=7"), 404, "not_found")
    error(api.get("/api/v1/masking/rules/?page=x"), 400, "invalid")


def test_an_id_too_large_for_the_database_is_a_404(api):
    for url in ("/api/v1/masking/rules/99999999999999999999999/", "/api/v1/masking/sessions/99999999999999999999999/"):
        error(api.get(url), 404, "not_found")
    page = api.get("/calls/99999999999999999999999/panel/")
    assert page.status_code == 404 and b"Not found" in page.content


def test_an_agent_id_too_large_is_400(api):
    body = {"destination_number": "9876543210", "agent": 2**63}
    response = api.post("/api/v1/calls/click-to-call/", body, content_type="application/json")
    assert error(response, 400, "invalid")["extra"]["fields"].keys() == {"agent"}


def test_digits_of_other_scripts_in_an_address_or_an_event_are_not_numbers(api, smartflo):
    """`str.isdigit` is true for "²" and "①", which `int()` refuses: they were 500s."""
    for path in ("/api/v1/calls/%C2%B2/", "/api/v1/calls/%E2%91%A0/"):
        error(api.get(path), 404, "not_found")
    error(api.post("/api/v1/calls/%C2%B2/hangup/", {}, content_type="application/json"), 404, "call_not_found")
    webhook = "/api/v1/webhooks/smartflo/?token=test-webhook-token"
    for fields in ({"duration": "²"}, {"billsec": "²", "call_status": ""}, {"duration": "9" * 25}):
        body = {"call_id": "1715235734.1", "event": "hangup", "call_status": "missed", **fields}
        assert api.post(webhook, body, content_type="application/json").status_code == 200, fields


def test_an_intercom_of_other_scripts_digits_is_refused(api, smartflo):
    body = {"name": "Kiran", "follow_me_number": "9876500042", "intercom": "²²²²"}
    response = api.post("/api/v1/agents/", body, content_type="application/json")
    assert error(response, 400, "invalid")["extra"]["fields"].keys() == {"intercom"}


def test_too_many_files_is_named_as_files(api, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = {f"f{i}": SimpleUploadedFile(f"{i}.txt", b"x") for i in range(4)}
    body = error(api.post("/api/v1/otp/send/", {"phone": "9876543210", **files}), 400, "too_many_files")
    assert body["extra"] == {"max_files": 2}
