"""Real Celery worker processes for the tests that need one (a real Redis broker; CI has it).

def test_x(redis_url, real_broker, tmp_path):
    with celery_worker(redis_url=redis_url, log_file=tmp_path / "worker.log", env={...}) as worker:
        some_task.apply_async(queue=worker.queue)
        worker.wait_for(lambda: ..., timeout=60)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.needs import skip_or_fail

ROOT = Path(__file__).resolve().parents[1]


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


def worker_database_url() -> str:
    """A DATABASE_URL that opens the database this test is using, for the worker process."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            pytest.skip("the SQLite test database is in memory, so a worker process cannot share it")
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        credentials = quote(db["USER"] or "", safe="")
        if db.get("PASSWORD"):
            credentials += ":" + quote(db["PASSWORD"], safe="")
        host = (f"{credentials}@" if credentials else "") + (db.get("HOST") or "localhost")
        if db.get("PORT"):
            host += f":{db['PORT']}"
        return f"postgres://{host}/{quote(db['NAME'], safe='')}"
    pytest.skip(f"no worker database URL for {connection.vendor}")


@dataclass
class Worker:
    process: subprocess.Popen
    queue: str
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    def wait_for(self, probe: Callable[[], Any], timeout: float = 60) -> Any:
        """Poll `probe` until it returns something truthy; fail with the worker's log if the
        worker dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            assert self.process.poll() is None, self.log() or "the worker died"
            time.sleep(0.1)
        pytest.fail(f"timed out; worker log:\n{self.log() or '(none)'}")


@contextmanager
def celery_worker(
    *, redis_url: str, log_file: Path, env: dict[str, str] | None = None, loglevel: str = "INFO"
) -> Iterator[Worker]:
    """A solo worker on a queue of its own (so stale messages in Redis never reach it)."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        **(env or {}),
    }
    command = [sys.executable, "-m", "celery", "-A", "contactcenter", "worker", "--pool", "solo", "-Q", queue,
               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", loglevel,
               "-f", str(log_file)]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        yield Worker(process=process, queue=queue, log_file=log_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
