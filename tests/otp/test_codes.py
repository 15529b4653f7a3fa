"""Codes: random, stored only as a keyed hash, sealed for the lead step and nowhere else."""

from __future__ import annotations

import uuid

import pytest

from otp.codes import SealBroken, code_matches, generate_code, hash_code, seal_code, unseal_code

CHALLENGE = uuid.UUID("6f1c1f64-2f0b-4c53-9a3c-5b7c0a9e2d11")


def test_codes_are_six_digits_and_vary():
    codes = {generate_code() for _ in range(200)}
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert len(codes) > 190


def test_the_hash_is_keyed_and_bound_to_the_challenge(settings):
    digest = hash_code(CHALLENGE, "123456")
    assert len(digest) == 64
    assert "123456" not in digest
    assert code_matches(challenge_id=CHALLENGE, code_hash=digest, code="123456")
    assert not code_matches(challenge_id=CHALLENGE, code_hash=digest, code="123457")
    assert not code_matches(challenge_id=uuid.uuid4(), code_hash=digest, code="123456")
    settings.OTP_HASH_KEY = "another-key"
    assert not code_matches(challenge_id=CHALLENGE, code_hash=digest, code="123456")


def test_the_default_key_comes_from_secret_key(settings):
    settings.OTP_HASH_KEY = ""
    before = hash_code(CHALLENGE, "123456")
    settings.SECRET_KEY = "a-different-secret-key-for-this-test-0123456789"
    assert hash_code(CHALLENGE, "123456") != before


def test_sealing_round_trips_and_hides_the_code():
    digest = hash_code(CHALLENGE, "004217")
    sealed = seal_code(CHALLENGE, "004217")
    assert "004217" not in sealed
    assert sealed != seal_code(uuid.uuid4(), "004217")  # a keystream per challenge
    assert unseal_code(challenge_id=CHALLENGE, code_sealed=sealed, code_hash=digest) == "004217"


@pytest.mark.parametrize("sealed", ["", "zz", "00" * 6, "00" * 5])
def test_a_wiped_or_tampered_seal_is_refused(sealed):
    with pytest.raises(SealBroken):
        unseal_code(challenge_id=CHALLENGE, code_sealed=sealed, code_hash=hash_code(CHALLENGE, "004217"))


def test_a_changed_key_is_detected_instead_of_sending_a_wrong_code(settings):
    digest = hash_code(CHALLENGE, "004217")
    sealed = seal_code(CHALLENGE, "004217")
    settings.OTP_HASH_KEY = "rotated"
    with pytest.raises(SealBroken):
        unseal_code(challenge_id=CHALLENGE, code_sealed=sealed, code_hash=digest)
