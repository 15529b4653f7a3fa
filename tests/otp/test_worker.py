"""The delivery task on a real Celery worker process over a real Redis broker, sharing the
test database: send through the API, let the worker add the lead and place the call, verify
the code the sandbox announced."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection

from otp.models import OtpChallenge, OtpState
from tests.conftest import skip_or_fail
from tests.otp.conftest import PHONE, api_client_for, heard_code

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL") or os.environ.get("CELERY_BROKER_URL")
    if not url or not url.startswith("redis"):
        skip_or_fail("needs a Redis broker: set REDIS_URL=redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis at {url} is not answering ({exc})")
    return url


def worker_database_url() -> str:
    """A DATABASE_URL that opens the database this test is using, for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            pytest.skip("the SQLite test database is in memory, so a worker process cannot share it")
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = f"{credentials}@" if credentials else ""
        host += db.get("HOST") or "localhost"
        if db.get("PORT"):
            host += f":{db['PORT']}"
        return f"postgres://{host}/{quote(db['NAME'], safe='')}"
    pytest.skip(f"no worker database URL for {connection.vendor}")


def wait_for(probe, timeout: float, worker: subprocess.Popen, log_file: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        assert worker.poll() is None, log_file.read_text() if log_file.exists() else "the worker died"
        time.sleep(0.1)
    pytest.fail(f"timed out; worker log:\n{log_file.read_text() if log_file.exists() else '(none)'}")


def test_a_worker_delivers_the_code_and_it_verifies(redis_url, sandbox, settings, tmp_path, make_user):
    from contactcenter.celery import app

    database_url = worker_database_url()
    queue = f"test-otp-{uuid.uuid4().hex[:8]}"
    settings.OTP_TASK_QUEUE = queue
    log_file = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SECRET_KEY": django_settings.SECRET_KEY,  # the key the sealed code depends on
        "OTP_HASH_KEY": django_settings.OTP_HASH_KEY,
        "SMARTFLO_BASE_URL": sandbox.base_url,
        "SMARTFLO_API_TOKEN": sandbox.token,
        "SMARTFLO_TIMEOUT": "2",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "contactcenter",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "DEBUG",
            "-f",
            str(log_file),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    saved = {name: getattr(app.conf, name) for name in ("task_always_eager", "broker_url")}
    try:
        app.conf.update(task_always_eager=False, broker_url=redis_url)
        api = api_client_for(make_user("backend"))

        response = api.post("/api/v1/otp/send/", {"phone": PHONE}, format="json")
        assert response.status_code == 202, response.content
        challenge_id = response.json()["id"]

        def finished() -> OtpChallenge | None:
            challenge = OtpChallenge.objects.get(pk=challenge_id)
            return challenge if challenge.state not in (OtpState.QUEUED, OtpState.LEAD_ADDED, "calling") else None

        challenge = wait_for(finished, 60, worker, log_file)
        assert challenge.state == OtpState.DELIVERED, (challenge.failure_message, log_file.read_text())
        assert [r["path"] for r in sandbox.requests(path="/v1/*")] == ["/v1/broadcast/lead/sandbox-lead", "/v1/c2c_api"]
        assert challenge.provider_requests.count() == 2
        assert challenge.code_sealed == ""

        code = heard_code(sandbox)
        verified = api.post("/api/v1/otp/verify/", {"phone": PHONE, "code": code}, format="json")
        assert verified.status_code == 200
        assert verified.json() == {"verified": True}

        wait_for(
            lambda: "otp.deliver" in log_file.read_text() and "succeeded" in log_file.read_text(), 10, worker, log_file
        )
        log = log_file.read_text()
        assert challenge_id in log  # the task's argument, at DEBUG
        assert re.search(rf"(?<![\d.]){code}(?!\d)", log) is None
    finally:
        app.conf.update(saved)
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
