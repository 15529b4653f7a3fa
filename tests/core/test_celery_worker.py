"""A task run end to end by a real Celery worker process over a real Redis broker."""

from __future__ import annotations

import pytest

from tests.workers import celery_worker

pytestmark = pytest.mark.celery_worker


def test_worker_runs_the_ping_task_against_the_sandbox(redis_url, real_broker, sandbox, tmp_path):
    from contactcenter.core.tasks import smartflo_ping

    env = {"SMARTFLO_BASE_URL": sandbox.base_url, "SMARTFLO_API_TOKEN": sandbox.token}
    with celery_worker(redis_url=redis_url, log_file=tmp_path / "worker.log", env=env) as worker:
        smartflo_ping.apply_async(queue=worker.queue)
        worker.wait_for(lambda: sandbox.requests(path="/v1/agents"))
        worker.wait_for(lambda: "smartflo ping ok" in worker.log())
        assert len(sandbox.requests(path="/v1/agents")) == 1
        assert "smartflo ping ok: 3 agents visible" in worker.log()
        assert sandbox.token not in worker.log()
