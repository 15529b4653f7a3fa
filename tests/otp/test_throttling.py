"""Throttling, counted in the database: per phone (window and resend cool-down) and per client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from otp.errors import OtpThrottled
from otp.models import OtpChallenge, OtpState
from otp.services import otp_send
from tests.otp.conftest import E164, PHONE

pytestmark = pytest.mark.django_db


def send_at(user, at, phone: str = PHONE) -> OtpChallenge:
    """A send at a given instant, without running the delivery."""
    with TestCase.captureOnCommitCallbacks(execute=False):
        return otp_send(phone=phone, requested_by=user, now=at)


def test_a_resend_within_the_cool_down_is_429_with_retry_after(send, smartflo):
    assert send().status_code == 202
    response = send()

    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert body["extra"]["scope"] == "phone_cooldown"
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 30
    assert body["extra"]["retry_after"] == retry_after
    assert OtpChallenge.objects.count() == 1
    assert len(smartflo.requests(path="/v1/broadcast/lead/*")) == 1


def test_a_throttled_send_leaves_the_earlier_code_valid(send, verify, smartflo):
    send()
    code = smartflo.announcements(phone=PHONE)[-1]["otp"]
    assert send().status_code == 429
    assert verify(code).status_code == 200


def test_the_cool_down_ends_on_time(backend):
    start = timezone.now()
    send_at(backend, start)
    with pytest.raises(OtpThrottled) as refused:
        send_at(backend, start + timedelta(seconds=20))
    assert refused.value.retry_after == 10
    send_at(backend, start + timedelta(seconds=30))


def test_three_sends_per_phone_per_window(backend):
    start = timezone.now() - timedelta(minutes=20)
    for minutes in (0, 1, 2):
        send_at(backend, start + timedelta(minutes=minutes))

    with pytest.raises(OtpThrottled) as refused:
        send_at(backend, start + timedelta(minutes=5))
    # The oldest send leaves the 15-minute window at start + 15 min: 10 minutes from then.
    assert refused.value.retry_after == 600
    assert refused.value.extra == {"retry_after": 600, "scope": "phone"}

    send_at(backend, start + timedelta(minutes=15))  # the first one no longer counts
    assert OtpChallenge.objects.filter(phone=E164).count() == 4


def test_the_phone_limit_counts_every_clients_sends(backend, make_user):
    other = make_user("other-backend")
    start = timezone.now()
    send_at(backend, start - timedelta(minutes=3))
    send_at(other, start - timedelta(minutes=2))
    send_at(backend, start - timedelta(minutes=1))
    with pytest.raises(OtpThrottled):
        send_at(other, start)


def test_a_client_has_its_own_limit_across_phones(backend, settings, api, django_capture_on_commit_callbacks):
    settings.OTP_SEND_LIMIT_PER_CLIENT = 2
    start = timezone.now()
    send_at(backend, start - timedelta(minutes=2), phone="9876500011")
    send_at(backend, start - timedelta(minutes=1), phone="9876500012")

    response = api.post("/api/v1/otp/send/", {"phone": "9876500013"}, format="json")
    assert response.status_code == 429
    assert response.json()["extra"]["scope"] == "client"
    assert 13 * 60 <= int(response["Retry-After"]) <= 13 * 60 + 1


def test_a_limit_of_zero_turns_the_client_limit_off(backend, settings):
    settings.OTP_SEND_LIMIT_PER_CLIENT = 0
    start = timezone.now()
    for i in range(5):
        send_at(backend, start + timedelta(seconds=i), phone=f"98765000{i:02d}")
    assert OtpChallenge.objects.count() == 5


def test_superseded_challenges_still_count(backend):
    start = timezone.now() - timedelta(minutes=10)
    first = send_at(backend, start)
    send_at(backend, start + timedelta(minutes=1))
    first.refresh_from_db()
    assert first.state == OtpState.SUPERSEDED
    send_at(backend, start + timedelta(minutes=2))
    with pytest.raises(OtpThrottled):
        send_at(backend, start + timedelta(minutes=3))
