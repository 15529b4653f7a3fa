"""An inbound call that rings an agent (`ring_agent`, `POST /_control/ring_agent`): the events
the app's incoming-call pop-up follows, and the call record it leaves."""

from __future__ import annotations

import pytest

from sandbox.webhooks import PAYLOAD_KEYS

CALLER = "9812345678"


@pytest.fixture
def hooked(sandbox, receiver, control):
    control.post("/config", json={"webhook_url": receiver.url, "webhook_token": "hook-secret"})
    return sandbox


def test_an_answered_inbound_call_rings_the_agent_then_is_answered_and_recorded(hooked, control, receiver):
    hooked.set_scenario(CALLER, talk_seconds=0.2)
    response = control.post("/ring_agent", json={"caller_id_number": CALLER, "agent": "1002"})
    call_id = response.json()["call_id"]
    assert response.status_code == 200

    received = [r.json() for r in receiver.wait_for(3)]
    assert [(r["event"], r["call_status"]) for r in received] == [
        ("agent_ringing", "ringing"),
        ("agent_answered", "answered"),
        ("hangup", "completed"),
    ]
    for payload in received:
        assert tuple(payload) == PAYLOAD_KEYS and payload["call_id"] == call_id
        assert payload["direction"] == "inbound"
        assert payload["caller_id_number"] == payload["customer_number"] == "+919812345678"  # the customer called
        assert payload["call_to_number"] == "+" + hooked.state.config.did_number
        assert payload["agent_number"] == "+919876500002"  # Vikram's phone rang
    assert received[0]["answered_agent_number"] == "" and received[1]["answered_agent_name"] == "Vikram Singh"

    record = hooked.wait_for_record(call_id)
    assert (record["direction"], record["status"], record["services"]) == ("inbound", "answered", "Inbound")
    assert record["agent_name"] == "Vikram Singh" and record["client_number"].endswith(CALLER)


def test_an_unanswered_inbound_call_is_missed_by_the_agent(hooked, control, receiver):
    hooked.set_scenario(CALLER, agent_answers=False, ring_seconds=0.1)
    call_id = hooked.ring_agent(caller_id_number=CALLER, agent="1001")
    received = [r.json() for r in receiver.wait_for(2)]
    assert [(r["event"], r["call_status"]) for r in received] == [("agent_ringing", "ringing"), ("hangup", "missed")]
    assert received[1]["hangup_cause"] == "NO_ANSWER"
    record = hooked.wait_for_record(call_id)
    assert (record["direction"], record["status"]) == ("inbound", "missed")
    assert record["missed_agents"] == [{"name": "Asha Rao", "number": "+919876500001"}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"caller_id_number": "12", "agent": "1001"}, "caller_id_number must be a phone number"),
        ({"caller_id_number": CALLER}, "agent is required"),
        ({"caller_id_number": CALLER, "agent": "4242"}, "Agent not found"),
        ({"caller_id_number": CALLER, "agent": "1001", "colour": "red"}, "unknown keys: colour"),
    ],
)
def test_bad_requests_are_refused_and_ring_nobody(sandbox, control, body, message):
    response = control.post("/ring_agent", json=body)
    assert response.status_code == 400 and message in response.json()["message"]
    assert sandbox.live_calls() == []
