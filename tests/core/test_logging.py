"""No log line carries a phone number, a token or an OTP code."""

import logging

from contactcenter.core.logging import RedactingFilter, redact


def test_phone_numbers_are_masked_in_every_typed_form():
    text = redact("to 9876543210, +919876543210, 098765-43210 and +91 98765 43210")
    assert "9876543210" not in text.replace("-", "").replace(" ", "")
    assert text.count("3210") == 4


def test_call_ids_dates_and_small_numbers_survive():
    text = "call 1715235734.129662 at 2026-11-26 14:32:18 took 120 ms, id 42"
    assert redact(text) == text


def test_credentials_and_codes_are_removed():
    text = redact(
        'Authorization: Bearer eyJabc.def token=s3cr3t {"api_key": "k-1", "field_5": "123456"} otp=654321',
        secrets=["my-configured-secret"],
    )
    for secret in ("eyJabc", "s3cr3t", "k-1", "123456", "654321"):
        assert secret not in text


def test_configured_secrets_are_removed_anywhere(settings):
    settings.SMARTFLO_API_TOKEN = "Bearer very-secret-token-value"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sent %s", ("very-secret-token-value",), None)
    RedactingFilter().filter(record)
    assert "very-secret" not in record.getMessage()


def test_filter_masks_arguments_and_tracebacks():
    try:
        raise ValueError("bad number 9876543210")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "dialing %s", ("+919876543210",), sys.exc_info())
    RedactingFilter().filter(record)
    assert record.getMessage() == "dialing +91******3210"
    assert "9876543210" not in record.exc_text


def test_settings_attach_the_filter_to_every_handler(settings):
    for handler in settings.LOGGING["handlers"].values():
        assert "redact" in handler["filters"]


def test_url_encoded_numbers_are_masked():
    text = redact("GET /api/v1/masking/resolve/?caller_id_number=%2B919876543210&to=98765%2043210")
    assert "9876543210" not in text and "98765%2043210" not in text


def test_djangos_own_loggers_go_through_the_redacting_handler(settings):
    for name in ("django", "django.server"):
        assert settings.LOGGING["loggers"][name]["handlers"] == ["console"]
