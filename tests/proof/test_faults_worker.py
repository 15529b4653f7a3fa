"""Fault: a Celery worker is SIGKILLed in the middle of a task (a real worker process, a real
Redis broker, the test database shared), then a worker starts again.

* Mid call-records sync (Smartflo slowed so the kill lands inside a window): the next run takes
  over the dead run's lock once its lease expires, resumes from the watermark, and the table
  then equals the sandbox's records: nothing missing, nothing twice.
* Mid OTP delivery (`acks_late`: the message comes back to the restarted worker), killed during
  the lead request or during the call request: the OTP call is placed exactly once, counted by
  the sandbox's control API, and the code the user heard verifies.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from calls.models import CallRecord, CallRecordSyncRun, CallRecordSyncState
from calls.tasks import sync_call_records
from otp.models import OtpChallenge, OtpState
from tests.otp.conftest import PHONE, api_client_for, heard_code
from tests.proof.faults_support import killable_worker, sigkill, wait_for_ready
from tests.records.conftest import assert_table_equals_sandbox
from tests.waiting import wait_until
from tests.workers import worker_database_url

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

PAGE_LATENCY = 0.3  # each /call/records page takes this long: the kill lands while one is awaited
LEASE_SECONDS = 3


def provider_env(sandbox) -> dict[str, str]:
    return {
        "DATABASE_URL": worker_database_url(),
        "SECRET_KEY": django_settings.SECRET_KEY,
        "OTP_HASH_KEY": django_settings.OTP_HASH_KEY,
        "SMARTFLO_BASE_URL": sandbox.base_url,
        "SMARTFLO_API_TOKEN": sandbox.token,
        "SMARTFLO_TIMEOUT": "10",
        "SMARTFLO_BACKOFF_SECONDS": "0.01",
        "LOG_LEVEL": "INFO",
    }


def _mid_window(requests: list[dict]) -> bool:
    """The worker is waiting on a page that continues a window (same `to_date` as the request
    before it), and at least one earlier window is finished (so the watermark has moved)."""
    windows = [r["query"]["to_date"] for r in requests]
    return len(set(windows)) >= 2 and len(windows) >= 2 and windows[-1] == windows[-2]


def test_a_worker_killed_mid_sync_loses_nothing_and_the_next_run_completes_exactly(
    redis_url, real_broker, sandbox, tmp_path
):
    now = timezone.now().replace(microsecond=0)
    start = now - timedelta(hours=5)
    sandbox.generate_records(count=300, start=start, end=now - timedelta(minutes=30), seed=17)
    sandbox.add_fault(endpoint="call_records", latency=PAGE_LATENCY)
    env = {
        **provider_env(sandbox),
        "CDR_SYNC_PAGE_SIZE": "25",
        "CDR_SYNC_WINDOW_SECONDS": "3600",
        "CDR_SYNC_INITIAL_LOOKBACK_SECONDS": str(5 * 3600 + 60),
        "CDR_SYNC_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    queue = f"faults-{uuid.uuid4().hex[:8]}"

    with killable_worker(
        queue=queue, redis_url=redis_url, log_file=tmp_path / "first.log", env=env, visibility_timeout=3600
    ) as first:
        sync_call_records.apply_async(queue=queue)
        first.wait_for(lambda: _mid_window(sandbox.requests(path="/v1/call/records")), 60)
        sigkill(first)

    dead = CallRecordSyncRun.objects.get()
    assert dead.status == "running", "killed: it never got to record its end"
    state = CallRecordSyncState.objects.get()
    assert state.lease_owner, "the dead run's lock is still held (until its lease expires)"
    assert state.watermark is not None, "the windows it finished stay finished"
    stored_before = CallRecord.objects.count()
    assert 0 < stored_before < sandbox.record_count()
    assert CallRecord.objects.filter(started_at__gt=state.watermark).exists(), "killed inside a window"
    watermark_at_kill = state.watermark

    sandbox.clear_faults()
    with killable_worker(
        queue=queue, redis_url=redis_url, log_file=tmp_path / "second.log", env=env, visibility_timeout=3600
    ) as second:
        wait_for_ready(second)
        wait_until(
            lambda: CallRecordSyncState.objects.get().lease_expires_at < timezone.now() - timedelta(seconds=0.5),
            timeout=LEASE_SECONDS + 5,
            what="the dead run's lease to expire",
        )
        sync_call_records.apply_async(queue=queue)
        run = second.wait_for(
            lambda: CallRecordSyncRun.objects.exclude(pk=dead.pk).filter(finished_at__isnull=False).first(), 60
        )

    assert run.status == "succeeded", run.error
    assert run.watermark_before == watermark_at_kill, "the new run resumed where the dead one's last window ended"
    dead.refresh_from_db()
    assert dead.status == "failed" and "stopped without finishing" in dead.error
    assert CallRecord.objects.count() == sandbox.record_count() == 300
    assert CallRecord.objects.values("call_id").distinct().count() == 300
    assert_table_equals_sandbox(sandbox, start - timedelta(minutes=1), now)
    state = CallRecordSyncState.objects.get()
    assert state.lease_owner == "" and state.watermark >= run.window_to - timedelta(seconds=1)


def announcements(sandbox, phone: str) -> list[dict]:
    """The OTP calls Smartflo placed to `phone`, from the sandbox's control API."""
    response = httpx.get(f"{sandbox.control_url}/announcements", params={"phone": phone}, timeout=5)
    response.raise_for_status()
    return response.json()


@pytest.mark.parametrize("killed_during", ["broadcast_lead", "c2c_api"])
def test_a_worker_killed_mid_otp_delivery_places_the_call_exactly_once(
    killed_during, redis_url, real_broker, sandbox, settings, tmp_path, make_user
):
    slow = 2.0  # the request the worker is killed in takes this long (and does take effect)
    sandbox.add_fault(endpoint=killed_during, latency=slow, times=1)
    queue = f"faults-{uuid.uuid4().hex[:8]}"
    settings.OTP_TASK_QUEUE = queue
    env = provider_env(sandbox)
    api = api_client_for(make_user("backend"))
    path = {"broadcast_lead": "/v1/broadcast/lead/*", "c2c_api": "/v1/c2c_api"}[killed_during]

    with killable_worker(
        queue=queue, redis_url=redis_url, log_file=tmp_path / "first.log", env=env, visibility_timeout=3600
    ) as first:
        response = api.post("/api/v1/otp/send/", {"phone": PHONE}, format="json")
        assert response.status_code == 202, response.content
        challenge_id = response.json()["id"]

        def in_flight() -> list[dict]:
            challenge = OtpChallenge.objects.get(pk=challenge_id)
            assert challenge.state != OtpState.FAILED, (challenge.failure_code, challenge.failure_message)
            return sandbox.requests(path=path)

        first.wait_for(in_flight, 60)
        sigkill(first)

    challenge = OtpChallenge.objects.get(pk=challenge_id)
    assert challenge.state == {"broadcast_lead": OtpState.QUEUED, "c2c_api": OtpState.CALLING}[killed_during]

    with killable_worker(
        queue=queue, redis_url=redis_url, log_file=tmp_path / "second.log", env=env, visibility_timeout=1
    ) as second:
        # The killed worker never acknowledged the message: Redis hands it to the new worker.
        second.wait_for(lambda: "otp.deliver[" in second.log() and " succeeded in " in second.log(), 60)
        wait_until(lambda: announcements(sandbox, PHONE), timeout=slow + 5, what="the OTP call")

    assert len(sandbox.requests(path="/v1/c2c_api")) == 1, "one call request, ever"
    assert len(announcements(sandbox, PHONE)) == 1, "Smartflo placed one OTP call"
    challenge.refresh_from_db()
    if killed_during == "broadcast_lead":
        # The lead step is idempotent: the redelivered task sent it again, then placed the call.
        assert len(sandbox.requests(path="/v1/broadcast/lead/*")) == 2
        assert challenge.state == OtpState.DELIVERED
    else:
        # The call may have been placed: the redelivered task finds `calling` and does nothing.
        assert len(sandbox.requests(path="/v1/broadcast/lead/*")) == 1
        assert challenge.state == OtpState.CALLING

    verified = api.post("/api/v1/otp/verify/", {"phone": PHONE, "code": heard_code(sandbox)}, format="json")
    assert verified.status_code == 200 and verified.json() == {"verified": True}
