"""Retention: the daily purge deletes personal data past its setting's age, and only that."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from agents.models import Agent
from calls.models import CallEvent, CallRecord, IdempotentRequest, OutboundCall, ProviderRequest, RingingAlert
from calls.services import call_records_sync
from contactcenter.core.services import personal_data_purge_expired
from contactcenter.core.services.retention import RULES
from contactcenter.core.tasks import purge_expired_personal_data
from contactcenter.smartflo import format_ist
from otp.models import OtpChallenge, OtpProviderRequest
from tests.records.conftest import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def cdr_sync(settings, smartflo):
    """The call-record sync pointed at the sandbox, one request per day of records."""
    settings.CDR_SYNC_PAGE_SIZE = 100
    settings.CDR_SYNC_WINDOW_SECONDS = 86400
    return smartflo


DAY = timedelta(days=1)


@pytest.fixture
def retention(settings):
    settings.CALL_RECORD_RETENTION_DAYS = 365
    settings.CALL_RETENTION_DAYS = 180
    settings.OTP_RETENTION_DAYS = 30
    settings.IDEMPOTENCY_RETENTION_DAYS = 2
    settings.SIGNIN_LOG_RETENTION_DAYS = 90
    settings.RETENTION_BATCH_SIZE = 2  # several batches per table
    return settings


def aged(model, days: float, field: str, **values):
    """A row whose date (auto_now_add or not) lies `days` in the past."""
    row = model.objects.create(**values)
    model.objects.filter(pk=row.pk).update(**{field: timezone.now() - days * DAY})
    return row


@pytest.fixture
def rows_on_both_sides(retention, make_user):
    """For each kind of row: three just past its cutoff, two just inside it."""
    user = make_user("asha", role="agent")
    agent = Agent.objects.create(name="Asha", follow_me_number="+919800000001", user=user)
    now = timezone.now()
    for days, count in ((366, 3), (364, 2)):
        for _ in range(count):
            make_record(started_at=now - days * DAY)
    for days, count in ((181, 3), (179, 2)):
        for i in range(count):
            call = aged(OutboundCall, days, "requested_at", requested_by=user, agent=agent, destination="+919845000001")
            ProviderRequest.objects.create(outbound_call=call, operation="click_to_call", method="POST", path="/x")
            aged(CallEvent, days, "received_at", fingerprint=f"{days}-{i}", payload={})
            aged(RingingAlert, days, "started_at", agent=agent, call_id=f"{days}.{i}")
    for days, count in ((31, 3), (29, 2)):
        for _ in range(count):
            challenge = OtpChallenge.objects.create(
                phone="+919845000002",
                code_hash="0" * 64,
                created_at=now - days * DAY,
                expires_at=now - days * DAY + timedelta(minutes=5),
            )
            OtpProviderRequest.objects.create(
                challenge=challenge,
                step="lead",
                operation="x",
                method="POST",
                path="/x",
                attempt=1,
                duration_ms=1,
                outcome="ok",
            )
    for days, count in ((2.1, 3), (1.9, 2)):
        for i in range(count):
            aged(IdempotentRequest, days, "created_at", user=user, key=f"{days}-{i}", request_hash="h")
    for days, count in ((91, 3), (89, 2)):
        for _ in range(count):
            aged(AccessLog, days, "attempt_time", username="asha", ip_address="10.0.0.1", user_agent="x")
            aged(AccessFailureLog, days, "attempt_time", username="asha", ip_address="10.0.0.1", user_agent="x")


def counts() -> dict[str, int]:
    models = (
        CallRecord, OutboundCall, ProviderRequest, CallEvent, RingingAlert, OtpChallenge, OtpProviderRequest,
        IdempotentRequest, AccessLog, AccessFailureLog,
    )  # fmt: skip
    return {m._meta.label: m.objects.count() for m in models}


def test_rows_past_their_retention_go_and_younger_ones_stay(rows_on_both_sides):
    deleted = personal_data_purge_expired()

    assert counts() == dict.fromkeys(counts(), 2)
    assert deleted == {
        "calls.CallRecord": 3,
        "calls.OutboundCall": 3,
        "calls.ProviderRequest": 3,
        "calls.CallEvent": 3,
        "calls.RingingAlert": 3,
        "otp.OtpChallenge": 3,
        "otp.OtpProviderRequest": 3,
        "calls.IdempotentRequest": 3,
        "axes.AccessLog": 3,
        "axes.AccessFailureLog": 3,
    }


def test_the_purge_is_idempotent_and_logs_its_counts(rows_on_both_sides, caplog):
    with caplog.at_level("INFO", logger="contactcenter.core.services.retention"):
        personal_data_purge_expired()
        assert personal_data_purge_expired() == {}
    assert "calls.CallRecord 3" in caplog.text
    assert "nothing past its retention" in caplog.text


def test_zero_keeps_rows_for_ever(rows_on_both_sides, settings):
    for name in (
        "CALL_RECORD_RETENTION_DAYS",
        "CALL_RETENTION_DAYS",
        "OTP_RETENTION_DAYS",
        "IDEMPOTENCY_RETENTION_DAYS",
        "SIGNIN_LOG_RETENTION_DAYS",
    ):
        setattr(settings, name, 0)
    before = counts()
    assert personal_data_purge_expired() == {}
    assert counts() == before


def test_one_setting_governs_only_its_own_rows(rows_on_both_sides, settings):
    settings.CALL_RETENTION_DAYS = 0
    personal_data_purge_expired()
    assert OutboundCall.objects.count() == 5 and CallEvent.objects.count() == 5
    assert CallRecord.objects.count() == 2 and OtpChallenge.objects.count() == 2


def test_expired_sign_in_sessions_are_cleared_like_clearsessions(retention):
    live, expired = SessionStore(), SessionStore()
    live.create()
    expired.set_expiry(-10)
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(expire_date=timezone.now() - DAY)

    purge_expired_personal_data()  # the beat task

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_beat_runs_the_purge_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-personal-data"]
    assert entry["task"] == "core.purge_expired_personal_data"
    assert entry["schedule"].hour == {4} and entry["schedule"].minute == {30}


def test_retention_defaults_are_a_contact_centers(settings):
    assert (
        settings.CALL_RECORD_RETENTION_DAYS,
        settings.CALL_RETENTION_DAYS,
        settings.OTP_RETENTION_DAYS,
        settings.IDEMPOTENCY_RETENTION_DAYS,
        settings.SIGNIN_LOG_RETENTION_DAYS,
    ) == (365, 365, 30, 2, 90)


def test_a_backfill_does_not_bring_back_records_past_their_retention(cdr_sync, sandbox, retention):
    now = timezone.now().replace(microsecond=0)
    sandbox.insert_records(
        [
            {"client_number": "9845000003", "start": format_ist(now - 366 * DAY)},
            {"client_number": "9845000004", "start": format_ist(now - 364 * DAY)},
        ]
    )

    run = call_records_sync(start=now - 367 * DAY, end=now - 363 * DAY, trigger="manual")

    assert run.status == "succeeded"
    assert list(CallRecord.objects.values_list("client_number", flat=True)) == ["+919845000004"]


def leading_index_columns(model) -> set[str]:
    """The first column of every index the database holds on the model's table."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {c["columns"][0] for c in constraints.values() if c["index"] and c["columns"]}


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.label)
def test_each_batch_is_found_through_an_index_not_by_scanning_the_table(rule):
    """A batch takes the oldest rows by date: only an index leading with the date avoids sorting
    the whole table for each batch. django-axes' tables have none: they are walked by id."""
    column = rule.model._meta.get_field(rule.date_field).column
    assert rule.date_indexed == (column in leading_index_columns(rule.model))


def test_sign_in_logs_are_walked_by_id_in_batches_whatever_their_dates(retention, settings):
    settings.RETENTION_BATCH_SIZE = 2
    # Ids and dates in different orders: kept rows between the old ones.
    for days in (91, 10, 95, 92, 1, 120, 93):
        aged(AccessLog, days, "attempt_time", username="asha", ip_address="10.0.0.1", user_agent="x")

    with CaptureQueriesContext(connection) as queries:
        deleted = personal_data_purge_expired()

    assert deleted == {"axes.AccessLog": 5}
    assert sorted(
        round((timezone.now() - t) / DAY) for t in AccessLog.objects.values_list("attempt_time", flat=True)
    ) == [1, 10]
    table = AccessLog._meta.db_table
    selects = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and table in q["sql"]]
    assert len(selects) == 3  # two full batches of two, then the last row
    assert not any("ORDER BY" in sql and "attempt_time" in sql.split("ORDER BY")[1] for sql in selects)
