"""No log line carries a phone number, a token or an OTP code."""

import logging
import re

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


def test_a_number_parameter_is_masked_in_any_form_the_app_accepts():
    forms = ["%2B91%20(984)%20501-2345", "98-45-01-23-45", "%39%38%34%35%30%31%32%33%34%35",
             "%E0%A5%AF%E0%A5%AE%E0%A5%AA%E0%A5%AB%E0%A5%A6%E0%A5%A7%E0%A5%A8%E0%A5%A9%E0%A5%AA%E0%A5%AB",
             "+91.98450.12345"]  # fmt: skip
    for form in forms:
        for name in ("party", "number", "caller_id_number", "destination_number", "phone"):
            line = redact(f'"GET /api/v1/masking/rules/?page=2&{name}={form}&active=true HTTP/1.1" 200 512')
            assert re.search(rf"&{name}=\*{{6,}}2345&active=true", line), line
            assert "page=2" in line and "200 512" in line
    assert redact("GET /calls/records/?number=3210&agent=4") == "GET /calls/records/?number=3210&agent=4"  # 4 digits
    for search in ("/agents/?q=987654321", "/api/v1/agents/?search=%2B9198765"):  # a number in a search
        line = redact(f"GET {search} HTTP/1.1")
        assert "987654321" not in line and "9198765" not in line and "*" in line, line
    # values that are not phone numbers stay readable
    for kept in ("customer_id=C-998877", "page_number=1234567", "call_id=1715235734.129662"):
        assert redact(f"GET /x/?{kept}&a=1") == f"GET /x/?{kept}&a=1", kept


def test_djangos_own_loggers_go_through_the_redacting_handler(settings):
    for name in ("django", "django.server"):
        assert settings.LOGGING["loggers"][name]["handlers"] == ["console"]


def test_api_and_session_keys_are_removed_but_uuids_stay():
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.utils.crypto import get_random_string
    from rest_framework.authtoken.models import Token

    api_key, session_key = Token.generate_key(), "k" + get_random_string(31, VALID_KEY_CHARS)
    text = redact(f"""WHERE "key" = '{api_key}'; args=('{api_key}',) session {session_key}""")
    assert api_key not in text and session_key not in text
    identifier = "5b9be0f50a6d4b53a9fc4e2631035bb1"  # a UUID's hex form
    assert redact(f"call {identifier}") == f"call {identifier}"


def test_a_celery_worker_keeps_the_filter_on_its_own_handlers(tmp_path):
    """A worker swaps the root logger's handlers for its own (its -f file here): they redact too."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    log_file = tmp_path / "worker.log"
    code = (
        "import django, logging; django.setup()\n"
        "from contactcenter.celery import app\n"
        f"app.log.setup(loglevel='INFO', logfile={str(log_file)!r})\n"
        "logging.getLogger('calls.x').warning('dialing +919876543210, Authorization: sandbox-token')\n"
        "from celery.utils.log import get_task_logger\n"
        "get_task_logger('otp.tasks').warning('otp=123456 for 98765 43210')\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "SMARTFLO_API_TOKEN": "sandbox-token"}
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    log = log_file.read_text()
    assert "dialing +91******3210" in log and "98765 43210" not in log
    assert "sandbox-token" not in log and "123456" not in log
