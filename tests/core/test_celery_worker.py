"""A task run end to end by a real Celery worker process over a real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.celery_worker


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


@pytest.fixture
def real_broker(redis_url):
    """This process sends to Redis for real (tests otherwise run tasks eagerly)."""
    from contactcenter.celery import app

    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    app.conf.update(task_always_eager=False, broker_url=redis_url)
    yield app
    app.conf.update(**saved)


def test_worker_runs_the_ping_task_against_the_sandbox(redis_url, real_broker, sandbox, tmp_path):
    from contactcenter.core.tasks import smartflo_ping

    queue = f"test-{uuid.uuid4().hex[:8]}"
    log_file = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SMARTFLO_BASE_URL": sandbox.base_url,
        "SMARTFLO_API_TOKEN": sandbox.token,
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
            "INFO",
            "-f",
            str(log_file),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        smartflo_ping.apply_async(queue=queue)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sandbox.requests(path="/v1/agents"):
            assert worker.poll() is None, log_file.read_text() if log_file.exists() else "worker died"
            time.sleep(0.2)
        assert len(sandbox.requests(path="/v1/agents")) == 1, "the worker never called Smartflo"
        while time.monotonic() < deadline and "smartflo ping ok" not in log_file.read_text():
            time.sleep(0.2)
        log = log_file.read_text()
        assert "smartflo ping ok: 3 agents visible" in log
        assert sandbox.token not in log
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
