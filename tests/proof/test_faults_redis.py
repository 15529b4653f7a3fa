"""Fault: Redis stops. A private `redis-server` serves as broker and cache, then is SIGKILLed.

Pages, sign-in and the masking endpoint keep answering; an OTP send still answers (its challenge
fails with `queue_unavailable`, which verification reports as `otp_not_delivered`) and never
hangs or answers 500; /healthz says the broker is down. When Redis comes back, tasks queue again.
"""

from __future__ import annotations

import copy
import json
import time

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client

from contactcenter.core.cache import ResilientRedisCache
from masking.services import masking_number_create, masking_rule_create
from otp.models import OtpChallenge, OtpState
from tests.conftest import login
from tests.otp.conftest import api_client_for
from tests.proof.faults_support import RedisServer

pytestmark = pytest.mark.django_db

MASKING, CUSTOMER, PARTNER = "+918069000111", "+919845012345", "+919876500002"
CUSTOMER_ON_HOLD = "9812300077"


def redis_cache_settings(url: str) -> dict:
    """The project's cache configuration for a Redis CACHE_URL, pointed at `url`."""
    configured = django_settings.CACHES["default"]
    if "redis" in configured["BACKEND"].lower():  # REDIS_URL set (CI): exactly what settings.py built
        return {**copy.deepcopy(configured), "LOCATION": url}
    # Locally without REDIS_URL settings.py chose files; this is its Redis branch.
    return {
        "BACKEND": "contactcenter.core.cache.ResilientRedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "cc",
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }


@pytest.fixture
def private_redis(tmp_path):
    with RedisServer(tmp_path) as server:
        yield server


@pytest.fixture
def on_private_redis(private_redis, settings, monkeypatch):
    """Cache and Celery broker on the private Redis, tasks really sent (not run eagerly)."""
    from contactcenter.celery import app

    def fresh_pools() -> None:
        # Celery keeps the producer pools it made on first use, for the broker URL of that moment:
        # forget them (not close them: kombu's registry hands the same pool to later tests).
        app._pool = None
        app.amqp._producer_pool = None

    # Read before touching settings: Celery loads its configuration from them on first access.
    saved = {"task_always_eager": app.conf.task_always_eager, "broker_url": app.conf.broker_url}
    settings.CACHES = {"default": redis_cache_settings(private_redis.url)}
    # After an unreachable error the cache leaves Redis alone for a while: short here.
    monkeypatch.setattr(ResilientRedisCache, "UNREACHABLE_PAUSE_SECONDS", 0.5)
    settings.CELERY_TASK_ALWAYS_EAGER = False  # what /healthz reads
    app.conf.update(task_always_eager=False, broker_url=private_redis.url)
    fresh_pools()
    yield private_redis
    app.conf.update(**saved)
    fresh_pools()


@pytest.fixture
def masked_route(db):
    masking_number_create(number=MASKING, label="Deliveries")
    masking_rule_create(masking_number=MASKING, party_a=CUSTOMER, party_b=PARTNER)


def resolve(client: Client):
    return client.post(
        "/api/v1/masking/resolve/",
        data=json.dumps({"uuid": "1", "call_id": "1715235734.1", "call_to_number": "+91-8069000111",
                         "caller_id_number": CUSTOMER, "start_stamp": "2024-05-09 11:52:14"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {django_settings.MASKING_API_TOKEN}",
    )  # fmt: skip


def assert_pages_work(*, agent_page: Client, supervisor_page: Client, live_call_id: str) -> None:
    fresh = Client()
    signed_in = fresh.post("/accounts/login/", {"username": "sup", "password": "a-long-passphrase"})
    assert signed_in.status_code == 302, "sign-in must not need Redis"
    assert fresh.get("/").status_code == 200
    assert agent_page.get("/calls/").status_code == 200
    board = supervisor_page.get("/calls/live/board/")
    assert board.status_code == 200
    assert live_call_id in board.content.decode(), "the live board still shows Smartflo's live calls"
    assert supervisor_page.get("/calls/records/").status_code == 200
    charts = supervisor_page.get("/calls/records/charts/")
    assert charts.status_code == 200 and "hourly" in charts.json()
    assert supervisor_page.get("/otp/").status_code == 200
    answer = resolve(Client())
    assert answer.status_code == 200
    assert answer.json() == [{"transfer": {"type": "number", "data": [PARTNER[3:]]}}]


def send_otp(api, phone: str, capture) -> tuple[object, float]:
    started = time.monotonic()
    with capture(execute=True):
        response = api.post("/api/v1/otp/send/", {"phone": phone}, format="json")
    return response, time.monotonic() - started


def test_redis_stopped_pages_and_masking_work_tasks_fail_clearly_then_queue_again(
    on_private_redis, smartflo, asha, supervisor, make_user, masked_route, django_capture_on_commit_callbacks
):
    redis_server = on_private_redis
    queued = redis.Redis.from_url(redis_server.url)
    smartflo.set_scenario(CUSTOMER_ON_HOLD, hold=True)
    live_call_id = smartflo.click_to_call(agent_number="1002", destination_number=CUSTOMER_ON_HOLD)
    smartflo.wait_for_state(live_call_id, "in_progress")
    agent_page, supervisor_page = login(asha.user), login(supervisor)
    api = api_client_for(make_user("backend"))

    # --- Redis up: the cache and the broker really are this Redis -------------------------
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json()["broker"]["ok"] is True and health.json()["status"] == "ok"
    assert_pages_work(agent_page=agent_page, supervisor_page=supervisor_page, live_call_id=live_call_id)
    assert any(b"live" in key for key in queued.keys()), "the live board's poll is cached in this Redis"
    response, _ = send_otp(api, "9876543210", django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert OtpChallenge.objects.get(pk=response.json()["id"]).state == OtpState.QUEUED
    assert queued.llen("celery") == 1, "the delivery task waits in Redis"

    # --- Redis killed ------------------------------------------------------------------------
    redis_server.kill()
    polls_before = len(smartflo.requests(path="/v1/live_calls"))
    assert_pages_work(agent_page=agent_page, supervisor_page=supervisor_page, live_call_id=live_call_id)
    assert len(smartflo.requests(path="/v1/live_calls")) > polls_before, "without a cache the board polls Smartflo"
    synced = supervisor_page.post("/agents/sync/", follow=True)  # a sync someone triggers runs in the request
    assert synced.status_code == 200 and "Synced from Smartflo" in synced.content.decode()
    assert supervisor_page.post("/api/v1/agents/sync/").status_code == 200

    health = Client().get("/healthz")
    assert health.status_code == 200, "the database is fine: the app is degraded, not down"
    body = health.json()
    assert body["status"] == "degraded"
    assert body["broker"]["ok"] is False and body["broker"]["transport"] == "redis" and body["broker"]["error"]
    assert body["database"]["ok"] is True

    response, took = send_otp(api, "9876543211", django_capture_on_commit_callbacks)
    assert took < 10, f"an OTP send with the broker down took {took:.1f}s"
    assert response.status_code == 202, response.content  # the challenge exists; its delivery failed
    challenge = OtpChallenge.objects.get(pk=response.json()["id"])
    assert (challenge.state, challenge.failure_step, challenge.failure_code) == ("failed", "queue", "queue_unavailable")
    assert challenge.failure_message, "the supervisor page says why"
    assert challenge.code_sealed == ""
    verify = api.post("/api/v1/otp/verify/", {"phone": "9876543211", "code": "123456"}, format="json")
    assert verify.status_code == 400
    assert verify.json()["code"] == "otp_not_delivered"  # a clear answer: request a new code
    assert supervisor_page.get(f"/otp/{challenge.pk}/").status_code == 200

    # --- Redis back (same port): the same process queues tasks and caches again ---------------
    redis_server.start()
    time.sleep(ResilientRedisCache.UNREACHABLE_PAUSE_SECONDS)  # the cache tries Redis again after its pause
    queued = redis.Redis.from_url(redis_server.url)
    assert Client().get("/healthz").json()["broker"]["ok"] is True
    response, _ = send_otp(api, "9876543212", django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert OtpChallenge.objects.get(pk=response.json()["id"]).state == OtpState.QUEUED
    assert queued.llen("celery") == 1
    assert_pages_work(agent_page=agent_page, supervisor_page=supervisor_page, live_call_id=live_call_id)
    assert any(b"live" in key for key in queued.keys())
