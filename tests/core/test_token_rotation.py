"""Rotating the tokens Smartflo presents to us: during a rotation both the current and the
previous value are accepted, and the previous one is reported (once per process, no token)."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from contactcenter.core import tokens
from contactcenter.core.tokens import TokenMatch, token_match

pytestmark = pytest.mark.django_db

NEW, OLD = "rotated-token-2026-new", "rotated-token-2025-old"
RESOLVE_URL = "/api/v1/masking/resolve/"
WEBHOOK_URL = "/api/v1/webhooks/smartflo/"


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    """Each test is a fresh process as far as the once-per-process warning goes."""
    monkeypatch.setattr(tokens, "_warned_previous", set())


def resolve(token: str):
    body = {"call_to_number": "+91-8069000111", "caller_id_number": "+919845012345", "call_id": "1715235734.1"}
    return Client().post(
        RESOLVE_URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def webhook(token: str, *, header: bool = False):
    body = json.dumps({"call_id": "1715235734.129662", "call_status": "ringing", "direction": "inbound"})
    if header:
        return Client().post(WEBHOOK_URL, body, content_type="application/json", HTTP_X_WEBHOOK_TOKEN=token)
    return Client().post(f"{WEBHOOK_URL}?token={token}", body, content_type="application/json")


def rotation_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "previous token" in r.getMessage()]


# --- the comparison ----------------------------------------------------------------------------


def test_token_match_names_which_token_matched():
    assert token_match([NEW], current=NEW, previous=OLD) is TokenMatch.CURRENT
    assert token_match([OLD], current=NEW, previous=OLD) is TokenMatch.PREVIOUS
    assert token_match(["wrong", OLD], current=NEW, previous=OLD) is TokenMatch.PREVIOUS
    assert token_match([OLD, NEW], current=NEW, previous=OLD) is TokenMatch.CURRENT
    assert token_match(["wrong"], current=NEW, previous=OLD) is TokenMatch.NONE
    assert token_match([], current=NEW, previous=OLD) is TokenMatch.NONE


def test_an_unset_previous_token_matches_nothing_not_even_an_empty_credential():
    assert token_match([""], current=NEW, previous="") is TokenMatch.NONE
    assert token_match([OLD], current=NEW, previous="") is TokenMatch.NONE


def test_without_a_current_token_the_previous_one_is_refused_too():
    assert token_match([OLD], current="", previous=OLD) is TokenMatch.NONE


def test_every_credential_is_compared_with_every_token_in_constant_time(monkeypatch):
    compared = []
    real = tokens.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    token_match([NEW, "x", OLD], current=NEW, previous=OLD)  # a match first: no early exit
    assert len(compared) == 6


# --- the masking endpoint (MASKING_API_TOKEN) --------------------------------------------------


@pytest.fixture
def masking_rotation(settings):
    settings.MASKING_API_TOKEN = NEW
    settings.MASKING_API_TOKEN_PREVIOUS = OLD
    return settings


def test_masking_accepts_the_current_token_without_a_warning(masking_rotation, caplog):
    assert resolve(NEW).status_code in (200, 404)  # authenticated: routed or unmatched
    assert rotation_warnings(caplog) == []


def test_masking_accepts_the_previous_token_and_warns_once_per_process_without_the_token(masking_rotation, caplog):
    with caplog.at_level(logging.WARNING, logger="contactcenter.core.tokens"):
        assert resolve(OLD).status_code in (200, 404)
        assert resolve(OLD).status_code in (200, 404)
    (warning,) = rotation_warnings(caplog)
    assert "MASKING_API_TOKEN_PREVIOUS" in warning and "finish the rotation" in warning
    assert OLD not in caplog.text and NEW not in caplog.text


def test_masking_refuses_any_other_token(masking_rotation):
    response = resolve("some-other-token")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_masking_without_a_previous_token_accepts_only_the_current_one(settings):
    settings.MASKING_API_TOKEN = NEW
    settings.MASKING_API_TOKEN_PREVIOUS = ""
    assert resolve(NEW).status_code in (200, 404)
    assert resolve(OLD).status_code == 401
    assert resolve("").status_code == 401


# --- the webhook endpoint (SMARTFLO_WEBHOOK_TOKEN) ---------------------------------------------


@pytest.fixture
def webhook_rotation(settings):
    settings.SMARTFLO_WEBHOOK_TOKEN = NEW
    settings.SMARTFLO_WEBHOOK_TOKEN_PREVIOUS = OLD
    return settings


@pytest.mark.parametrize("header", [False, True])
def test_webhook_accepts_the_current_token_without_a_warning(webhook_rotation, caplog, header):
    assert webhook(NEW, header=header).status_code == 200
    assert rotation_warnings(caplog) == []


@pytest.mark.parametrize("header", [False, True])
def test_webhook_accepts_the_previous_token_and_warns_once_without_the_token(webhook_rotation, caplog, header):
    with caplog.at_level(logging.WARNING, logger="contactcenter.core.tokens"):
        assert webhook(OLD, header=header).status_code == 200
        assert webhook(OLD, header=header).status_code == 200
    (warning,) = rotation_warnings(caplog)
    assert "SMARTFLO_WEBHOOK_TOKEN_PREVIOUS" in warning
    assert OLD not in caplog.text and NEW not in caplog.text


def test_webhook_refuses_any_other_token(webhook_rotation):
    response = webhook("some-other-token")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_webhook_without_a_previous_token_accepts_only_the_current_one(settings):
    settings.SMARTFLO_WEBHOOK_TOKEN = NEW
    settings.SMARTFLO_WEBHOOK_TOKEN_PREVIOUS = ""
    assert webhook(NEW).status_code == 200
    assert webhook(OLD).status_code == 401


def test_both_previous_tokens_are_redacted_from_logs(webhook_rotation, masking_rotation):
    from contactcenter.core.logging import RedactingFilter

    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"saw {OLD} and {NEW}", None, None)
    RedactingFilter().filter(record)
    assert OLD not in record.getMessage() and NEW not in record.getMessage()
