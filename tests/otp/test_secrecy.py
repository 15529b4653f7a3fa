"""The code never shows up anywhere but the lead request to Smartflo: not in log records (at
DEBUG, from every logger, before any redaction), SQL, task messages or API answers."""

from __future__ import annotations

import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from otp.models import OtpChallenge
from tests.otp.conftest import heard_code, other_code

pytestmark = pytest.mark.django_db

NOISY_LOGGERS = ("", "httpx", "httpcore", "celery", "django", "django.db.backends", "contactcenter", "otp", "sandbox")


def leaks(secret: str, text: str) -> bool:
    """The code as a number of its own; not the same digits inside a longer number, nor as the
    microseconds of a timestamp or a duration (`.123456`), which would make the test flaky."""
    return re.search(rf"(?<![\d.]){secret}(?!\d)", text) is not None


def record_texts(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            texts.append(record.exc_text)
    return texts


def test_codes_never_reach_a_log_record_sql_or_an_answer(send, verify, smartflo, caplog, settings):
    for name in NOISY_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    smartflo.add_fault(endpoint="broadcast_lead", error_rate=1.0, times=1)  # a retry, logged

    answers = []
    with CaptureQueriesContext(connection) as queries:
        answers.append(send())
        code = heard_code(smartflo)
        answers.append(verify(other_code(code)))
        answers.append(verify(code))
        answers.append(verify(code))
        # A failed delivery logs Smartflo's message too.
        settings.OTP_C2C_API_KEY = "not-the-key"
        answers.append(send("9876500077"))
        failed_code = smartflo.requests(path="/v1/broadcast/lead/*")[-1]["json"]["field_5"]

    assert leaks(code, f'{{"field_5": "{code}"}}') and leaks(code, f"otp={code}")  # the check can fail
    assert [a.status_code for a in answers] == [202, 400, 200, 400, 202]
    assert OtpChallenge.objects.filter(state="failed").count() == 1
    texts = record_texts(caplog.records)
    assert any("lead added" in text for text in texts)  # the capture did see the flow
    assert any("django.db.backends" == r.name for r in caplog.records)
    sql = [f"{q['sql']}" for q in queries.captured_queries]
    for secret in {code, failed_code}:
        assert not [text for text in texts if leaks(secret, text)]
        assert not [statement for statement in sql if leaks(secret, statement)]
        assert not [a for a in answers if leaks(secret, a.content.decode())]
