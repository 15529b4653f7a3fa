"""Rotating SECRET_KEY (or OTP_HASH_KEY) voids no code in flight while the old key is a fallback."""

from __future__ import annotations

import uuid

import pytest

from otp.codes import SealBroken, code_matches, hash_code, seal_code, unseal_code
from otp.models import OtpChallenge, OtpState
from tests.otp.conftest import heard_code

pytestmark = pytest.mark.django_db

OLD_KEY = "old-secret-key-" + "o" * 40
NEW_KEY = "new-secret-key-" + "n" * 40
CHALLENGE = uuid.UUID("0b6f7f3c-54a4-4b2a-8f0e-1d4f3c2b1a00")


@pytest.fixture
def derived_from_secret_key(settings):
    settings.OTP_HASH_KEY = ""
    settings.OTP_HASH_KEY_FALLBACKS = []
    settings.SECRET_KEY = OLD_KEY
    settings.SECRET_KEY_FALLBACKS = []
    return settings


def test_a_code_made_before_a_secret_key_rotation_verifies_with_the_old_key_as_fallback(derived_from_secret_key):
    settings = derived_from_secret_key
    digest, sealed = hash_code(CHALLENGE, "004217"), seal_code(CHALLENGE, "004217")

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]

    assert code_matches(challenge_id=CHALLENGE, code_hash=digest, code="004217")
    assert not code_matches(challenge_id=CHALLENGE, code_hash=digest, code="004218")
    assert unseal_code(challenge_id=CHALLENGE, code_sealed=sealed, code_hash=digest) == "004217"
    assert hash_code(CHALLENGE, "004217") != digest  # new codes use the new key


def test_without_the_fallback_a_rotation_still_voids_codes_in_flight(derived_from_secret_key):
    settings = derived_from_secret_key
    digest, sealed = hash_code(CHALLENGE, "004217"), seal_code(CHALLENGE, "004217")

    settings.SECRET_KEY = NEW_KEY

    assert not code_matches(challenge_id=CHALLENGE, code_hash=digest, code="004217")
    with pytest.raises(SealBroken):
        unseal_code(challenge_id=CHALLENGE, code_sealed=sealed, code_hash=digest)


def test_otp_hash_key_rotates_with_its_own_fallbacks(settings):
    settings.OTP_HASH_KEY, settings.OTP_HASH_KEY_FALLBACKS = "otp-key-one-0123456789", []
    digest, sealed = hash_code(CHALLENGE, "123456"), seal_code(CHALLENGE, "123456")

    settings.OTP_HASH_KEY, settings.OTP_HASH_KEY_FALLBACKS = "otp-key-two-0123456789", ["otp-key-one-0123456789"]
    settings.SECRET_KEY_FALLBACKS = []
    assert code_matches(challenge_id=CHALLENGE, code_hash=digest, code="123456")
    assert unseal_code(challenge_id=CHALLENGE, code_sealed=sealed, code_hash=digest) == "123456"

    settings.OTP_HASH_KEY_FALLBACKS = []
    assert not code_matches(challenge_id=CHALLENGE, code_hash=digest, code="123456")


def test_a_code_heard_before_the_rotation_verifies_through_the_api_after_it(
    derived_from_secret_key, send, verify, smartflo
):
    settings = derived_from_secret_key
    assert send().status_code == 202
    code = heard_code(smartflo)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]

    response = verify(code)
    assert response.status_code == 200, response.content
    assert OtpChallenge.objects.get().state == OtpState.VERIFIED
