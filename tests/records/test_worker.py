"""The beat task run by a real Celery worker process over a real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from calls.models import CallRecord, CallRecordSyncRun
from calls.tasks import sync_call_records
from tests.core.test_celery_worker import real_broker, redis_url  # noqa: F401 (fixtures)
from tests.records.conftest import hours_ago

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    """The test database, as the worker process must reach it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_real_worker_syncs_the_records(redis_url, real_broker, records_settings, sandbox, tmp_path):  # noqa: F811
    sandbox.generate_records(count=120, start=hours_ago(6), end=hours_ago(1), seed=31)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    log_file = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SMARTFLO_BASE_URL": sandbox.base_url,
        "SMARTFLO_API_TOKEN": sandbox.token,
        "CDR_SYNC_PAGE_SIZE": "50",
        "LOG_LEVEL": "INFO",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "contactcenter", "worker", "--pool", "solo", "-Q", queue,
         "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO", "-f", str(log_file)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        sync_call_records.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not CallRecordSyncRun.objects.filter(status="succeeded").exists():
            assert worker.poll() is None, log_file.read_text() if log_file.exists() else "worker died"
            time.sleep(0.2)
        run = CallRecordSyncRun.objects.get()
        assert (run.status, run.trigger) == ("succeeded", "beat"), run.error
        assert CallRecord.objects.count() == 120
        log = log_file.read_text()
        assert "call records sync: window 1/" in log and "records stored" in log  # progress is logged
        assert sandbox.token not in log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
