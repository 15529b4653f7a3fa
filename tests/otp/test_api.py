"""The OTP API end to end against the Smartflo sandbox: send, hear the code, verify it once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from otp.models import OtpChallenge, OtpState
from tests.otp.conftest import E164, PHONE, api_client_for, heard_code, other_code

pytestmark = pytest.mark.django_db


def test_send_answers_202_with_id_and_expiry_and_the_call_speaks_the_code(send, smartflo):
    before = timezone.now()
    response = send("+91 98765-43210")

    assert response.status_code == 202, response.content
    body = response.json()
    assert set(body) == {"id", "expires_at"}
    challenge = OtpChallenge.objects.get(pk=body["id"])
    assert challenge.phone == E164
    assert challenge.state == OtpState.DELIVERED
    expires_at = parse_datetime(body["expires_at"])
    assert expires_at == challenge.expires_at
    assert timedelta(seconds=299) < expires_at - before <= timedelta(seconds=301)
    assert len(heard_code(smartflo)) == 6


def test_the_announced_code_verifies_exactly_once(send, verify, smartflo):
    send()
    code = heard_code(smartflo)

    first = verify(code)
    assert first.status_code == 200
    assert first.json() == {"verified": True}

    again = verify(code)
    assert again.status_code == 400
    assert again.json()["verified"] is False
    assert again.json()["code"] == "otp_already_used"
    assert OtpChallenge.objects.get().state == OtpState.VERIFIED


def test_a_wrong_code_is_refused_and_the_right_one_still_works(send, verify, smartflo):
    send()
    code = heard_code(smartflo)

    wrong = verify(other_code(code))
    assert wrong.status_code == 400
    assert wrong.json()["verified"] is False
    assert wrong.json()["code"] == "otp_invalid"
    assert wrong.json()["extra"]["attempts_left"] == 4
    assert code not in wrong.content.decode()

    assert verify(code).status_code == 200
    assert OtpChallenge.objects.get().attempts == 1


def test_five_wrong_codes_lock_the_challenge_even_against_the_right_code(send, verify, smartflo):
    send()
    code = heard_code(smartflo)
    answers = [verify(other_code(code)).json() for _ in range(5)]

    assert [a["code"] for a in answers] == ["otp_invalid"] * 4 + ["otp_locked"]
    assert [a["extra"].get("attempts_left") for a in answers[:4]] == [4, 3, 2, 1]
    right = verify(code)
    assert right.status_code == 400
    assert right.json() == {**right.json(), "verified": False, "code": "otp_locked"}
    challenge = OtpChallenge.objects.get()
    assert (challenge.state, challenge.attempts) == (OtpState.LOCKED, 5)


def test_an_expired_code_is_refused_with_its_own_code(send, verify, smartflo):
    send()
    code = heard_code(smartflo)
    now = timezone.now()
    OtpChallenge.objects.update(created_at=now - timedelta(minutes=6), expires_at=now - timedelta(seconds=1))

    response = verify(code)
    assert response.status_code == 400
    assert response.json()["code"] == "otp_expired"
    assert OtpChallenge.objects.get().state == OtpState.EXPIRED
    assert verify(code).json()["code"] == "otp_expired"


def test_ttl_is_capped_at_ten_minutes(send, smartflo, settings):
    settings.OTP_TTL_SECONDS = 3600
    challenge = OtpChallenge.objects.get(pk=send().json()["id"])
    assert challenge.expires_at - challenge.created_at == timedelta(seconds=600)


def _age_challenges(seconds: int) -> None:
    """Move every challenge back in time (past the resend cool-down)."""
    for challenge in OtpChallenge.objects.all():
        challenge.created_at -= timedelta(seconds=seconds)
        challenge.save(update_fields=["created_at"])


def test_a_new_send_supersedes_the_earlier_code(send, verify, smartflo):
    first_id = send().json()["id"]
    first_code = heard_code(smartflo)
    _age_challenges(60)
    second_id = send().json()["id"]
    second_code = heard_code(smartflo)
    assert second_id != first_id
    assert len(smartflo.announcements(phone=PHONE)) == 2

    old = verify(first_code)
    if first_code != second_code:  # one chance in a million that they are equal
        assert old.status_code == 400
        assert old.json()["code"] == "otp_superseded"
    assert verify(second_code).status_code == 200
    first = OtpChallenge.objects.get(pk=first_id)
    assert first.state == OtpState.SUPERSEDED
    assert first.code_sealed == ""


def test_a_send_by_another_client_supersedes_this_clients_code(send, verify, smartflo, make_user):
    send()
    code = heard_code(smartflo)
    _age_challenges(60)
    other = api_client_for(make_user("other-backend"))
    assert send(client=other).status_code == 202

    response = verify(code)
    assert response.status_code == 400
    assert response.json()["code"] == "otp_superseded"


def test_a_client_cannot_verify_another_clients_code(send, verify, smartflo, make_user):
    send()
    other = api_client_for(make_user("other-backend"))
    response = verify(heard_code(smartflo), client=other)
    assert response.status_code == 400
    assert response.json()["code"] == "otp_not_found"
    assert OtpChallenge.objects.get().state == OtpState.DELIVERED


def test_verify_without_any_send_is_not_found(verify, db):
    response = verify("123456")
    assert response.status_code == 400
    assert response.json() == {**response.json(), "verified": False, "code": "otp_not_found"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("send", {"phone": "12345"}, "phone"),
        ("send", {"phone": "call me"}, "phone"),
        ("send", {"phone": "+1 415 555 0100"}, "phone"),
        ("send", {}, "phone"),
        ("verify", {"phone": PHONE, "code": "12345"}, "code"),
        ("verify", {"phone": PHONE, "code": "1234567"}, "code"),
        ("verify", {"phone": PHONE, "code": "12a456"}, "code"),
        ("verify", {"phone": PHONE}, "code"),
        ("verify", {"phone": "98765", "code": "123456"}, "phone"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, smartflo, path, body, field):
    response = api.post(f"/api/v1/otp/{path}/", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert list(data["extra"]["fields"]) == [field]
    if path == "verify":
        assert data["verified"] is False
    assert smartflo.requests(path="/v1/*") == []
    assert not OtpChallenge.objects.exists()


def test_a_refused_code_is_not_echoed_back(api, send, smartflo):
    send()
    response = api.post("/api/v1/otp/verify/", {"phone": PHONE, "code": "98765x"}, format="json")
    assert "98765x" not in response.content.decode()


@pytest.mark.parametrize("path", ["send", "verify"])
def test_the_api_needs_an_authenticated_client(client, db, path):
    response = client.post(f"/api/v1/otp/{path}/", {"phone": PHONE, "code": "123456"}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_schema_documents_both_operations(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/otp/send/", "/api/v1/otp/verify/"} <= set(schema["paths"])
    assert "202" in schema["paths"]["/api/v1/otp/send/"]["post"]["responses"]
    assert "429" in schema["paths"]["/api/v1/otp/send/"]["post"]["responses"]
