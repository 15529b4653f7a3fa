"""With OTP_LEAD_ID and OTP_C2C_API_KEY unset (DEBUG off), OTP is off: sends are refused up front."""

from __future__ import annotations

import pytest

from otp.models import OtpChallenge

pytestmark = pytest.mark.django_db


def test_a_send_answers_503_otp_not_configured_and_stores_nothing(settings, send, smartflo):
    settings.OTP_LEAD_ID = settings.OTP_C2C_API_KEY = ""

    response = send()

    assert response.status_code == 503
    assert response.json()["code"] == "otp_not_configured"
    assert not OtpChallenge.objects.exists()
    assert smartflo.requests(path="/v1/*") == []
