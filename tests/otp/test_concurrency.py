"""Races, with real concurrent transactions (threads with connections of their own): a code is
used once, attempts never exceed the limit, throttling counts every concurrent send."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections

from otp.errors import OtpThrottled, OtpVerificationFailed
from otp.models import OtpChallenge, OtpState
from otp.services import otp_send, otp_verify
from tests.otp.conftest import PHONE, heard_code, other_code

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _shared_database():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("threads need a database file or server: the SQLite test database is in memory")


def race(count: int, action: Callable[[], object]) -> list[object]:
    """Run `action` in `count` threads released at once; each result or raised error, in order."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = action()
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def outcome(result: object) -> str:
    if isinstance(result, OtpVerificationFailed | OtpThrottled):
        return result.code
    if isinstance(result, Exception):
        return f"error: {result!r}"
    return "ok"


def test_concurrent_verifications_of_one_code_succeed_once(make_user, smartflo):
    backend = make_user("backend")
    otp_send(phone=PHONE, requested_by=backend)
    code = heard_code(smartflo)

    results = race(6, lambda: otp_verify(phone=PHONE, code=code, requested_by=backend))
    assert Counter(outcome(r) for r in results) == {"ok": 1, "otp_already_used": 5}
    assert OtpChallenge.objects.get().state == OtpState.VERIFIED


def test_concurrent_wrong_codes_stop_at_the_attempt_limit(make_user, smartflo):
    backend = make_user("backend")
    otp_send(phone=PHONE, requested_by=backend)
    wrong = other_code(heard_code(smartflo))

    results = race(8, lambda: otp_verify(phone=PHONE, code=wrong, requested_by=backend))
    assert Counter(outcome(r) for r in results) == {"otp_invalid": 4, "otp_locked": 4}
    challenge = OtpChallenge.objects.get()
    assert (challenge.state, challenge.attempts) == (OtpState.LOCKED, 5)


def test_concurrent_sends_for_one_phone_are_throttled_to_one(make_user, smartflo):
    backend = make_user("backend")
    results = race(5, lambda: otp_send(phone=PHONE, requested_by=backend))
    assert Counter(outcome(r) for r in results) == {"ok": 1, "throttled": 4}
    assert OtpChallenge.objects.count() == 1
    assert len(smartflo.announcements(phone=PHONE)) == 1


def test_concurrent_sends_by_one_client_respect_its_limit(make_user, smartflo, settings):
    settings.OTP_SEND_LIMIT_PER_CLIENT = 2
    backend = make_user("backend")
    phones = iter(f"98765000{i:02d}" for i in range(5))
    lock = threading.Lock()

    def send_next() -> OtpChallenge:
        with lock:
            phone = next(phones)
        return otp_send(phone=phone, requested_by=backend)

    results = race(5, send_next)
    assert Counter(outcome(r) for r in results) == {"ok": 2, "throttled": 3}
    assert OtpChallenge.objects.count() == 2
