"""`manage.py sync_call_records` (progress bar, backfill range) and the beat task."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from calls.models import CallRecord, CallRecordSyncRun, CallRecordSyncState
from calls.services.records import _lease_acquire
from calls.tasks import sync_call_records
from tests.records.conftest import assert_table_equals_sandbox, hours_ago, watermark

pytestmark = pytest.mark.django_db


def stamp(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def test_the_command_backfills_a_range_with_a_progress_bar(records_settings, sandbox, capsys):
    sandbox.generate_records(count=180, start=hours_ago(72), end=hours_ago(49), seed=21)
    sandbox.generate_records(count=10, start=hours_ago(30), end=hours_ago(26), seed=22)  # outside the range
    out = io.StringIO()

    call_command("sync_call_records", "--from", stamp(hours_ago(73)), "--to", stamp(hours_ago(48)), stdout=out)

    assert CallRecord.objects.count() == 180
    assert_table_equals_sandbox(sandbox, hours_ago(73), hours_ago(48))
    assert "Done: " in out.getvalue() and "180 stored" in out.getvalue()
    bar = capsys.readouterr().err
    assert "180/180" in bar and "records" in bar  # tqdm: records stored of Smartflo's count
    run = CallRecordSyncRun.objects.get()
    assert (run.kind, run.trigger, run.status) == ("backfill", "command", "succeeded")


def test_without_a_range_the_command_runs_the_incremental_sync(records_settings, sandbox):
    sandbox.generate_records(count=30, start=hours_ago(5), end=hours_ago(1), seed=23)
    out = io.StringIO()
    call_command("sync_call_records", "--no-progress", stdout=out)
    assert CallRecord.objects.count() == 30 and watermark() is not None
    assert "(incremental, from the watermark)" in out.getvalue()


def test_a_date_alone_means_the_whole_day(records_settings, sandbox):
    day = timezone.localdate() - timedelta(days=3)
    sandbox.insert_records([{"start": f"{day} 23:59:30"}, {"start": f"{day} 00:00:00"}])
    call_command("sync_call_records", "--from", str(day), "--to", str(day), "--no-progress", stdout=io.StringIO())
    assert CallRecord.objects.count() == 2


@pytest.mark.parametrize(
    "args",
    [["--from", "yesterday"], ["--from", "2026-03-10 10:00:00", "--to", "2026-03-09 10:00:00"]],
)
def test_bad_ranges_are_refused(records_settings, args):
    with pytest.raises(CommandError):
        call_command("sync_call_records", *args, stdout=io.StringIO())


def test_a_failed_sync_says_so_and_keeps_what_it_stored(records_settings, sandbox):
    sandbox.add_fault(endpoint="call_records", status=503)
    with pytest.raises(CommandError, match=r"Sync failed: .*503.* run it again"):
        call_command("sync_call_records", "--no-progress", stdout=io.StringIO())
    assert CallRecordSyncRun.objects.get().status == "failed"


def test_the_command_does_nothing_while_another_run_holds_the_lock(records_settings, sandbox):
    CallRecordSyncState.objects.create(name="default")
    assert _lease_acquire("a-running-worker")
    out = io.StringIO()
    call_command("sync_call_records", "--no-progress", stdout=out)
    assert "Nothing done: another run holds the lock" in out.getvalue()


def test_the_beat_task_syncs_and_logs_its_progress(records_settings, sandbox, caplog):
    sandbox.generate_records(count=120, start=hours_ago(6), end=hours_ago(1), seed=24)
    caplog.set_level(logging.INFO, logger="calls")

    sync_call_records.delay()

    assert CallRecord.objects.count() == 120
    progress = [r.getMessage() for r in caplog.records if r.name == "calls.tasks" and "records stored" in r.message]
    assert progress and "120 of 120 records stored" in progress[-1]
    assert CallRecordSyncRun.objects.get().trigger == "beat"
    # phone numbers never reach the logs
    assert not any("+91" in r.getMessage() for r in caplog.records if r.name.startswith("calls"))


def test_the_beat_task_survives_a_provider_outage(records_settings, sandbox, caplog):
    sandbox.add_fault(endpoint="call_records", status=503)
    sync_call_records.delay()  # logs and returns: the next beat run resumes
    assert CallRecordSyncRun.objects.get().status == "failed"
    assert any("resumes from the watermark" in r.getMessage() for r in caplog.records)


def test_beat_runs_the_sync_every_interval():
    entry = settings.CELERY_BEAT_SCHEDULE["sync-call-records"]
    assert entry["task"] == "calls.sync_call_records"
    assert entry["schedule"] == float(settings.CDR_SYNC_INTERVAL_SECONDS)
    assert entry["options"]["expires"] == settings.CDR_SYNC_INTERVAL_SECONDS


def test_the_daily_settle_run_stores_a_long_call_the_incremental_runs_missed(records_settings, sandbox):
    """A 40-minute call that straddles incremental runs: listed (under its start) after the
    overlap has moved past it. The incremental runs never see it; the daily settle run does."""
    from calls.tasks import settle_call_records

    call_command("sync_call_records", "--no-progress", stdout=io.StringIO())
    mark = watermark()
    started = timezone.localtime(mark - timedelta(minutes=40))
    (long_call,) = sandbox.insert_records([{"start": stamp(started), "call_duration": 2400}])
    call_command("sync_call_records", "--no-progress", stdout=io.StringIO())
    assert not CallRecord.objects.filter(call_id=long_call).exists()

    settle_call_records.apply()

    assert CallRecord.objects.get(call_id=long_call).call_duration == 2400
    run = CallRecordSyncRun.objects.latest("pk")
    assert (run.kind, run.trigger, run.status) == ("backfill", "beat", "succeeded")
    assert run.window_from <= started - timedelta(hours=1)  # it reaches back CDR_SYNC_SETTLE_SECONDS
    assert watermark() >= mark  # a backfill never moves the watermark back


def test_the_settle_run_is_scheduled_daily_and_retries_while_the_lock_is_held(records_settings, sandbox):
    from celery.exceptions import Retry
    from celery.schedules import crontab

    from calls.tasks import settle_call_records

    entry = settings.CELERY_BEAT_SCHEDULE["settle-call-records"]
    assert entry["task"] == "calls.settle_call_records" and isinstance(entry["schedule"], crontab)
    assert settings.CDR_SYNC_SETTLE_SECONDS >= 86400

    CallRecordSyncState.objects.create(name="default")
    assert _lease_acquire("someone-else")
    with pytest.raises(Retry):
        settle_call_records.apply(throw=True)
    assert CallRecordSyncRun.objects.latest("pk").status == "skipped"


def test_the_settle_run_does_not_retry_what_retrying_cannot_fix(records_settings, sandbox, caplog):
    from calls.tasks import settle_call_records

    sandbox.add_fault(endpoint="call_records", status=401, times=50)
    with caplog.at_level(logging.ERROR, logger="calls"):
        settle_call_records.apply(throw=True)  # no Retry raised
    assert any("not retried" in r.getMessage() for r in caplog.records)
