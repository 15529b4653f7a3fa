"""The supervisor's live board: one Smartflo poll shared by every board, merged with our calls."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from calls.models import OutboundCall

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_many_boards_share_one_provider_poll(supervisor_client, make_user, asha_client, smartflo, settings):
    settings.LIVE_CALLS_CACHE_SECONDS = 30
    smartflo.set_scenario("9876543210", hold=True)
    body = asha_client.post(
        "/api/v1/calls/click-to-call/", {"destination_number": "9876543210"}, content_type="application/json"
    ).json()
    smartflo.wait_for_state(body["call_id"], "in_progress")
    smartflo.clear_requests()
    for _ in range(5):
        page = supervisor_client.get("/calls/live/board/")
        assert page.status_code == 200
        assert body["call_id"] in page.content.decode()
        assert "placed by asha" in page.content.decode()  # merged with our OutboundCall
    assert len(smartflo.requests(path="/v1/live_calls")) == 1


def test_board_hangup(supervisor_client, asha_client, smartflo):
    smartflo.set_scenario("9876543210", hold=True)
    body = asha_client.post(
        "/api/v1/calls/click-to-call/", {"destination_number": "9876543210"}, content_type="application/json"
    ).json()
    smartflo.wait_for_state(body["call_id"], "in_progress")
    page = supervisor_client.post(f"/calls/live/{body['call_id']}/hangup/")
    assert "Hang-up sent." in page.content.decode()
    assert not [c for c in smartflo.live_calls() if c["call_id"] == body["call_id"]]
    assert OutboundCall.objects.get().is_final


def test_monitor_needs_a_linked_agent_and_then_reaches_smartflo(
    supervisor_client, asha_client, smartflo, sandbox_agents, make_user
):
    smartflo.set_scenario("9876543210", hold=True)
    body = asha_client.post(
        "/api/v1/calls/click-to-call/", {"destination_number": "9876543210"}, content_type="application/json"
    ).json()
    smartflo.wait_for_state(body["call_id"], "in_progress")
    refused = supervisor_client.post(f"/calls/live/{body['call_id']}/monitor/")
    assert "not linked to a Smartflo agent" in refused.content.decode()
    assert smartflo.requests(path="/v1/call/options") == []

    meera = sandbox_agents["meera"]
    from django.contrib.auth.models import User

    meera.user = User.objects.get(username="sup")
    meera.save()
    for mode, option in (("monitor", 1), ("whisper", 2), ("barge", 3)):
        page = supervisor_client.post(f"/calls/live/{body['call_id']}/{mode}/")
        assert f"{mode.title()} started" in page.content.decode()
        assert smartflo.requests(path="/v1/call/options")[-1]["json"]["type"] == option


def test_provider_down_shows_a_clear_message(supervisor_client, smartflo):
    smartflo.add_fault(endpoint="live_calls", error_rate=1.0)
    page = supervisor_client.get("/calls/live/board/")
    assert page.status_code == 200
    assert "Smartflo is unavailable" in page.content.decode()


def test_board_pages_are_for_supervisors_only(asha_client, client, db):
    assert asha_client.get("/calls/live/").status_code == 403
    assert asha_client.get("/calls/live/board/").status_code == 403
    assert asha_client.post("/calls/live/1.2/hangup/").status_code == 403
    assert client.get("/calls/live/").status_code == 302


def test_board_interval_choice(supervisor_client, db):
    page = supervisor_client.get("/calls/live/?every=10").content.decode()
    assert 'hx-trigger="load, every 10s"' in page
    assert 'hx-trigger="load, every 5s"' in supervisor_client.get("/calls/live/?every=999").content.decode()
