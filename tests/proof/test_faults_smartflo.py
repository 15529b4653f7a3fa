"""Fault: Smartflo is down (nothing listens) or slow (answers after our timeout).

Users get a clear message (`provider_unavailable`: try again; `provider_unknown_outcome`: check
before trying again) on pages and in the API, never a 500. Nothing is lost or half-made: every
attempt is a row in a final or `unknown` state, nothing is stored for an agent Smartflo may not
have, and a call whose outcome is unknown is never placed a second time by a retry.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from agents.models import Agent
from calls.models import CallRecordSyncRun, CallStatus, OutboundCall, ProviderRequest
from otp.models import OtpChallenge
from tests.conftest import login
from tests.otp.conftest import api_client_for
from tests.proof.faults_support import free_port
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db

CUSTOMER = "9876543210"
SLOW = 2.0  # seconds Smartflo takes to answer: twice the app's 1 s timeout (the `smartflo` fixture)


@pytest.fixture
def smartflo_down(settings, smartflo, sandbox_agents):
    """Point the app at a port where nothing listens: every request is refused (the sandbox's
    agents are synced first)."""
    settings.SMARTFLO_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"
    return settings


def click(client, key: str | None = None, **body):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(
        "/api/v1/calls/click-to-call/", {"destination_number": CUSTOMER, **body}, content_type="application/json",
        **headers,
    )  # fmt: skip


def placed(sandbox) -> list[dict]:
    return sandbox.requests(path="/v1/click_to_call")


def test_slow_smartflo_click_to_call_is_recorded_unknown_and_never_placed_twice(smartflo, asha):
    agent_page = login(asha.user)
    smartflo.add_fault(endpoint="click_to_call", latency=SLOW)

    started = time.monotonic()
    first = click(agent_page, key="order-42")
    assert time.monotonic() - started < SLOW, "the request gives up at the app's timeout"
    assert first.status_code == 504
    body = first.json()
    assert body["code"] == "provider_unknown_outcome"
    assert "check Smartflo before trying again" in body["message"]
    call = OutboundCall.objects.get()
    assert body["extra"]["call"] == {"id": call.pk, "status": CallStatus.UNKNOWN}
    assert call.status == CallStatus.UNKNOWN
    assert call.provider_message.startswith("Outcome unknown")
    attempt = ProviderRequest.objects.get(outbound_call=call)  # the audit trail of the attempt
    assert attempt.operation == "click_to_call" and attempt.status_code is None and "timeout" in attempt.error

    # Smartflo was only slow: it does place the call, after we stopped waiting.
    live = wait_until(
        lambda: [c for c in smartflo.live_calls() if c["custom_identifier"] == str(call.custom_identifier)],
        timeout=5,
        what="the slow click to call to reach Smartflo",
    )
    assert len(live) == 1

    # A client retry with the same key replays the answer; a new click is refused: nothing dials.
    again = click(agent_page, key="order-42")
    assert (again.status_code, again.json()) == (504, body)
    new_click = click(agent_page)
    assert new_click.status_code == 409
    assert new_click.json()["code"] == "call_in_progress"
    assert "outcome is unknown" in new_click.json()["message"]
    page = login(asha.user).post("/calls/place/", {"destination_number": CUSTOMER}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and "outcome is unknown" in page.content.decode()
    assert len(placed(smartflo)) == 1
    assert OutboundCall.objects.count() == 1

    workspace = agent_page.get("/calls/")
    assert workspace.status_code == 200
    assert "Outcome unknown" in workspace.content.decode()


def test_slow_smartflo_on_the_workspace_dial_shows_outcome_unknown(smartflo, asha):
    smartflo.add_fault(endpoint="click_to_call", latency=SLOW)
    page = login(asha.user).post("/calls/place/", {"destination_number": CUSTOMER}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    content = page.content.decode()
    assert 'data-status="unknown"' in content
    assert "the outcome is unknown: check Smartflo before trying again" in content
    assert OutboundCall.objects.get().status == CallStatus.UNKNOWN


def test_smartflo_down_click_to_call_fails_cleanly_and_a_retry_places_it_once(smartflo_down, smartflo, asha):
    agent_page = login(asha.user)

    first = click(agent_page, key="order-43")
    assert first.status_code == 503
    assert first.json()["code"] == "provider_unavailable"
    assert first.json()["message"].startswith("Smartflo is unavailable")
    failed = OutboundCall.objects.get()
    assert failed.status == CallStatus.FAILED, "refused before anything left: failed, not half-way"
    assert failed.provider_message

    page = login(asha.user).post("/calls/place/", {"destination_number": CUSTOMER}, HTTP_HX_REQUEST="true")
    assert page.status_code == 200
    assert "Smartflo is unavailable" in page.content.decode()
    assert set(OutboundCall.objects.values_list("status", flat=True)) == {CallStatus.FAILED}

    # Nothing reached Smartflo, so the same key really tries again once Smartflo is back.
    smartflo_down.SMARTFLO_BASE_URL = smartflo.base_url
    retried = click(agent_page, key="order-43")
    assert retried.status_code == 201, retried.content
    assert retried.json()["call_id"]
    assert len(placed(smartflo)) == 1
    assert click(agent_page, key="order-43").json() == retried.json()  # and a repeat replays it
    assert len(placed(smartflo)) == 1


def test_smartflo_down_supervisor_pages_say_so(smartflo_down, supervisor_client, sandbox_agents):
    board = supervisor_client.get("/calls/live/board/")
    assert board.status_code == 200
    assert "Smartflo is unavailable" in board.content.decode()

    synced = supervisor_client.post("/agents/sync/", follow=True)
    assert synced.status_code == 200
    assert "Smartflo is unavailable" in synced.content.decode()

    api = supervisor_client.post("/api/v1/agents/sync/")
    assert api.status_code == 503
    assert api.json()["code"] == "provider_unavailable"


NEW_AGENT = {
    "name": "Ravi Kumar",
    "follow_me_number": "9811100099",
    "username": "ravi",
    "password": "a-long-passphrase",
}


def test_smartflo_down_agent_create_stores_nothing(smartflo_down, supervisor_client, sandbox_agents):
    agents_before = Agent.objects.count()
    response = supervisor_client.post("/api/v1/agents/", NEW_AGENT, content_type="application/json")
    assert response.status_code == 503
    assert response.json()["code"] == "provider_unavailable"
    page = supervisor_client.post("/agents/new/", NEW_AGENT)
    assert page.status_code == 400
    assert "Smartflo is unavailable" in page.content.decode()
    assert Agent.objects.count() == agents_before
    assert not User.objects.filter(username="ravi").exists(), "no sign-in for an agent that does not exist"


def test_slow_smartflo_agent_create_is_unknown_and_a_sync_brings_it_in_once(
    smartflo, supervisor_client, sandbox_agents
):
    smartflo.add_fault(endpoint="agent", latency=SLOW, times=1)
    response = supervisor_client.post("/api/v1/agents/", NEW_AGENT, content_type="application/json")
    assert response.status_code == 504
    assert response.json()["code"] == "provider_unknown_outcome"
    assert not Agent.objects.filter(name="Ravi Kumar").exists()
    assert not User.objects.filter(username="ravi").exists()

    # Smartflo did create it (slowly): the sync brings it in, once.
    wait_until(
        lambda: any(a["name"] == "Ravi Kumar" for a in smartflo.agents()), timeout=5, what="the slow agent create"
    )
    synced = supervisor_client.post("/api/v1/agents/sync/")
    assert synced.status_code == 200, synced.content
    assert Agent.objects.filter(follow_me_number="+919811100099").count() == 1
    assert [a["name"] for a in smartflo.agents()].count("Ravi Kumar") == 1


def test_smartflo_down_otp_fails_with_a_clear_state_and_answer(
    smartflo_down, make_user, supervisor_client, django_capture_on_commit_callbacks
):
    smartflo_down.OTP_LEAD_RETRY_SECONDS = 0.01
    api = api_client_for(make_user("backend"))
    with django_capture_on_commit_callbacks(execute=True):  # the delivery task, run eagerly
        response = api.post("/api/v1/otp/send/", {"phone": CUSTOMER}, format="json")
    assert response.status_code == 202
    challenge = OtpChallenge.objects.get(pk=response.json()["id"])
    assert (challenge.state, challenge.failure_step, challenge.failure_code) == (
        "failed",
        "lead",
        "provider_unavailable",
    )
    assert "could not connect to Smartflo" in challenge.failure_message
    verify = api.post("/api/v1/otp/verify/", {"phone": CUSTOMER, "code": "123456"}, format="json")
    assert (verify.status_code, verify.json()["code"]) == (400, "otp_not_delivered")
    page = supervisor_client.get(f"/otp/{challenge.pk}/")
    assert page.status_code == 200 and "could not connect to Smartflo" in page.content.decode()


def test_smartflo_down_records_sync_fails_with_its_reason_and_the_dashboard_shows_it(smartflo_down, supervisor_client):
    smartflo_down.SMARTFLO_MAX_RETRIES = 1
    with pytest.raises(CommandError, match=r"Sync failed: .*could not connect to Smartflo"):
        call_command("sync_call_records", "--no-progress")
    run = CallRecordSyncRun.objects.get()
    assert run.status == "failed" and "could not connect to Smartflo" in run.error
    dashboard = supervisor_client.get("/calls/records/")
    assert dashboard.status_code == 200
    content = dashboard.content.decode()
    assert "Last sync failed" in content and "could not connect to Smartflo" in content
