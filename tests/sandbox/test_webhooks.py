"""Call-event webhooks delivered to a local receiver, with and without webhook faults."""

from __future__ import annotations

import time

import pytest

from sandbox.webhooks import PAYLOAD_KEYS
from tests.sandbox.conftest import CUSTOMER, place_call
from tests.waiting import wait_until

ANSWERED_EVENTS = ["agent_ringing", "agent_answered", "customer_ringing", "customer_answered", "hangup"]


@pytest.fixture
def hooked(sandbox, receiver, control):
    """The sandbox posting webhooks to `receiver` with a token, configured over the control API."""
    response = control.post("/config", json={"webhook_url": receiver.url, "webhook_token": "hook-secret"})
    assert response.json()["webhook_url"] == receiver.url
    return sandbox


def test_every_step_of_an_answered_call_is_posted_in_order_with_the_token(hooked, api, receiver):
    call_id = place_call(api, custom_identifier="cc-7")
    received = receiver.wait_for(5)
    assert [r.json()["event"] for r in received] == ANSWERED_EVENTS
    for request in received:
        payload = request.json()
        assert request.headers["x-webhook-token"] == "hook-secret"
        assert request.headers["content-type"] == "application/json"
        assert tuple(payload) == PAYLOAD_KEYS
        assert all(isinstance(value, str) for value in payload.values())
        assert payload["call_id"] == call_id and payload["custom_identifier"] == "cc-7"
        assert payload["direction"] == "outbound"
        assert payload["customer_number"] == payload["call_to_number"] == "+919845012345"
    statuses = [r.json()["call_status"] for r in received]
    assert statuses == ["ringing", "answered", "ringing", "answered", "completed"]

    first, last = received[0].json(), received[-1].json()
    assert first["answer_stamp"] == first["end_stamp"] == first["duration"] == first["recording_url"] == ""
    assert first["answered_agent_number"] == "" and first["agent_number"] == "+919876500001"
    assert last["hangup_cause"] == "NORMAL_CLEARING"
    assert last["answered_agent_name"] == "Asha Rao" and last["answered_agent_number"] == "+919876500001"
    assert int(last["duration"]) >= int(last["billsec"]) >= 1
    assert last["recording_url"].endswith(f"/recordings/{call_id}.mp3")
    assert last["end_stamp"] and last["answer_stamp"]
    assert first["uuid"] != last["uuid"]  # each leg has its own uuid


def test_deliveries_are_listed_on_the_control_api(hooked, api, control, receiver):
    call_id = place_call(api)
    hooked.wait_for_webhooks(5, call_id=call_id)
    deliveries = control.get("/webhooks", params={"call_id": call_id}).json()
    assert [d["event"] for d in deliveries] == ANSWERED_EVENTS
    assert all(d["ok"] and d["status"] == 200 and d["url"] == receiver.url for d in deliveries)
    assert control.get("/webhooks", params={"event": "hangup"}).json()[0]["payload"]["call_status"] == "completed"


def test_a_missed_call_ends_with_a_missed_hangup(hooked, api, receiver):
    hooked.set_scenario(CUSTOMER, agent_answers=False)
    place_call(api)
    received = receiver.wait_for(2)
    assert [(r.json()["event"], r.json()["call_status"]) for r in received] == [
        ("agent_ringing", "ringing"),
        ("hangup", "missed"),
    ]
    assert received[-1].json()["hangup_cause"] == "NO_ANSWER"
    assert received[-1].json()["recording_url"] == ""


def test_a_transfer_sends_an_event_with_the_new_agent(hooked, api, receiver):
    hooked.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api)
    hooked.wait_for_state(call_id, "in_progress")
    api.post("/call/options", json={"type": 4, "call_id": call_id, "intercom": "1003"})
    transferred = wait_until(lambda: [r.json() for r in receiver.received() if r.json()["event"] == "transferred"])
    assert transferred[0]["answered_agent_name"] == "Meera Iyer"
    assert transferred[0]["agent_number"] == "+919876500003"


def test_duplicates_send_the_same_event_twice(hooked, api, receiver):
    hooked.set_webhook_faults(duplicate_rate=1.0)
    place_call(api)
    received = receiver.wait_for(10)
    events = [r.json()["event"] for r in received]
    assert events == [e for e in ANSWERED_EVENTS for _ in range(2)]
    assert received[0].body == received[1].body
    assert sum(d["duplicate"] for d in hooked.wait_for_webhooks(10)) == 5


def test_reorder_lets_later_events_arrive_first(hooked, api, receiver, control):
    control.post("/webhook_faults", json={"reorder": True, "reorder_delay": 0.4}).raise_for_status()
    place_call(api)
    received = receiver.wait_for(5)
    events = [r.json()["event"] for r in received]
    assert sorted(events) == sorted(ANSWERED_EVENTS)
    assert events != ANSWERED_EVENTS
    assert any(d["delayed"] for d in hooked.wait_for_webhooks(5))


def test_delay_holds_every_event_back(hooked, api, receiver):
    hooked.set_webhook_faults(delay=0.4)
    clicked = time.time()
    place_call(api)
    (first,) = receiver.wait_for(1)[:1]
    assert first.at - clicked >= 0.4


def test_webhook_faults_are_validated(control):
    assert control.post("/webhook_faults", json={"duplicate_rate": 3}).status_code == 400
    assert control.post("/webhook_faults", json={"shuffle": True}).status_code == 400
    assert control.delete("/webhook_faults").json()["duplicate_rate"] == 0


def test_a_failing_receiver_is_logged_not_raised(sandbox, api, receiver):
    receiver.status = 500
    sandbox.configure(webhook_url=receiver.url)
    call_id = place_call(api)
    deliveries = sandbox.wait_for_webhooks(5, call_id=call_id)
    assert all(d["status"] == 500 and d["ok"] is False for d in deliveries)
    assert "x-webhook-token" not in receiver.received()[0].headers


def test_an_unreachable_receiver_is_logged_with_the_error(sandbox, api):
    sandbox.configure(webhook_url="http://127.0.0.1:9/unreachable")
    call_id = place_call(api)
    (delivery, *_) = sandbox.wait_for_webhooks(1, call_id=call_id)
    assert delivery["status"] is None and delivery["error"]


def test_without_a_webhook_url_events_are_still_recorded(sandbox, api, control):
    call_id = place_call(api)
    sandbox.wait_for_record(call_id)
    assert [e["event"] for e in control.get("/events", params={"call_id": call_id}).json()] == ANSWERED_EVENTS
    assert sandbox.webhooks() == []
