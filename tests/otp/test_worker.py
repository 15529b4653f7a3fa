"""The delivery task on a real Celery worker process over a real Redis broker, sharing the
test database: send through the API, let the worker add the lead and place the call, verify
the code the sandbox announced."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings

from otp.models import OtpChallenge, OtpState
from tests.otp.conftest import PHONE, api_client_for, heard_code
from tests.workers import celery_worker, worker_database_url

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_delivers_the_code_and_it_verifies(redis_url, real_broker, sandbox, settings, tmp_path, make_user):
    env = {
        "DATABASE_URL": worker_database_url(),
        "SECRET_KEY": django_settings.SECRET_KEY,  # the key the sealed code depends on
        "OTP_HASH_KEY": django_settings.OTP_HASH_KEY,
        "SMARTFLO_BASE_URL": sandbox.base_url,
        "SMARTFLO_API_TOKEN": sandbox.token,
        "SMARTFLO_TIMEOUT": "2",
    }
    with celery_worker(redis_url=redis_url, log_file=tmp_path / "worker.log", env=env, loglevel="DEBUG") as worker:
        settings.OTP_TASK_QUEUE = worker.queue
        api = api_client_for(make_user("backend"))

        response = api.post("/api/v1/otp/send/", {"phone": PHONE}, format="json")
        assert response.status_code == 202, response.content
        challenge_id = response.json()["id"]

        def finished() -> OtpChallenge | None:
            challenge = OtpChallenge.objects.get(pk=challenge_id)
            return challenge if challenge.state not in (OtpState.QUEUED, OtpState.LEAD_ADDED, "calling") else None

        challenge = worker.wait_for(finished, 60)
        assert challenge.state == OtpState.DELIVERED, (challenge.failure_message, worker.log())
        assert [r["path"] for r in sandbox.requests(path="/v1/*")] == ["/v1/broadcast/lead/sandbox-lead", "/v1/c2c_api"]
        assert challenge.provider_requests.count() == 2
        assert challenge.code_sealed == ""

        code = heard_code(sandbox)
        verified = api.post("/api/v1/otp/verify/", {"phone": PHONE, "code": code}, format="json")
        assert verified.status_code == 200
        assert verified.json() == {"verified": True}

        worker.wait_for(lambda: "otp.deliver" in worker.log() and "succeeded" in worker.log(), 10)
        log = worker.log()
        assert challenge_id in log  # the task's argument, at DEBUG
        assert re.search(rf"(?<![\d.]){code}(?!\d)", log) is None
