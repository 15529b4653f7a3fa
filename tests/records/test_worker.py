"""The beat task run by a real Celery worker process over a real Redis broker."""

from __future__ import annotations

import pytest

from calls.models import CallRecord, CallRecordSyncRun
from calls.tasks import sync_call_records
from tests.records.conftest import hours_ago
from tests.workers import celery_worker, worker_database_url

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_syncs_the_records(redis_url, real_broker, records_settings, sandbox, tmp_path):
    sandbox.generate_records(count=120, start=hours_ago(6), end=hours_ago(1), seed=31)
    env = {
        "DATABASE_URL": worker_database_url(),
        "SMARTFLO_BASE_URL": sandbox.base_url,
        "SMARTFLO_API_TOKEN": sandbox.token,
        "CDR_SYNC_PAGE_SIZE": "50",
        "LOG_LEVEL": "INFO",
    }
    with celery_worker(redis_url=redis_url, log_file=tmp_path / "worker.log", env=env) as worker:
        sync_call_records.apply_async(queue=worker.queue)
        worker.wait_for(lambda: CallRecordSyncRun.objects.filter(status="succeeded").exists())
        run = CallRecordSyncRun.objects.get()
        assert (run.status, run.trigger) == ("succeeded", "beat"), run.error
        assert CallRecord.objects.count() == 120
        log = worker.log()
        assert "call records sync: window 1/" in log and "records stored" in log  # progress is logged
        assert sandbox.token not in log
