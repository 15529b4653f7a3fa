"""Placing a call through the sandbox: success, every provider failure, no duplicates."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError

from calls.models import CallStatus, OutboundCall, ProviderRequest
from calls.services import CallActionFailed, call_event_ingest, call_place
from contactcenter.core.exceptions import ApplicationError
from tests.calls.conftest import replay_events

pytestmark = pytest.mark.django_db


def place(asha, number="098765-43210"):
    return call_place(requested_by=asha.user, agent=asha, destination=number)


def test_success_sends_one_documented_request_and_follows_the_events(asha, smartflo):
    call = place(asha)
    (request,) = smartflo.requests(path="/v1/click_to_call")
    assert request["json"] == {
        "agent_number": asha.eid,
        "destination_number": "9876543210",
        "async": 1,
        "get_call_id": 1,
        "custom_identifier": str(call.custom_identifier),
    }
    assert call.destination == "+919876543210"
    assert call.call_id
    assert call.provider_message == "Originate successfully queued"
    assert call.status in (CallStatus.ORIGINATING, CallStatus.AGENT_RINGING)

    # Smartflo's events for this call, in order, drive it to completed.
    seen = []
    for payload in replay_events(smartflo, call.call_id, count=5):
        call_event_ingest(payload=payload)
        call.refresh_from_db()
        seen.append(call.status)
    assert seen == [
        CallStatus.AGENT_RINGING,
        CallStatus.AGENT_ANSWERED,
        CallStatus.CUSTOMER_RINGING,
        CallStatus.IN_PROGRESS,
        CallStatus.COMPLETED,
    ]
    assert call.recording_url and call.duration_seconds is not None and call.ended_at
    attempts = ProviderRequest.objects.filter(outbound_call=call)
    assert [(a.operation, a.status_code) for a in attempts] == [("click_to_call", 200)]


def test_missed_by_the_customer(asha, smartflo):
    smartflo.set_scenario("9876543210", customer_answers=False)
    call = place(asha)
    events = replay_events(smartflo, call.call_id, count=4)
    for payload in events:
        call_event_ingest(payload=payload)
    call.refresh_from_db()
    assert call.status == CallStatus.MISSED


def test_refusal_fails_the_call_with_smartflos_message(asha, smartflo):
    smartflo.block_agent(asha.smartflo_id)  # Smartflo refuses a blocked agent's call
    with pytest.raises(CallActionFailed) as info:
        place(asha)
    assert info.value.code == "provider_rejected" and info.value.status_code == 502
    call = OutboundCall.objects.get()
    assert call.status == CallStatus.FAILED
    assert call.provider_message and call.provider_message in info.value.message


def test_timeout_leaves_the_call_unknown_and_is_sent_once(asha, smartflo):
    smartflo.add_fault(endpoint="click_to_call", timeout_rate=1.0)
    with pytest.raises(CallActionFailed) as info:
        place(asha)
    assert info.value.code == "provider_unknown_outcome" and info.value.status_code == 504
    call = OutboundCall.objects.get()
    assert call.status == CallStatus.UNKNOWN
    assert call.provider_message.startswith("Outcome unknown")
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1


def test_server_error_is_unknown_outcome_not_retried(asha, smartflo):
    smartflo.add_fault(endpoint="click_to_call", error_rate=1.0, error_status=503)
    with pytest.raises(CallActionFailed) as info:
        place(asha)
    assert info.value.status_code == 504
    assert OutboundCall.objects.get().status == CallStatus.UNKNOWN
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1


def test_bad_token_fails_with_a_clear_message(asha, smartflo, settings):
    settings.SMARTFLO_API_TOKEN = "wrong"
    with pytest.raises(CallActionFailed) as info:
        place(asha)
    assert info.value.code == "provider_auth_failed"
    assert "SMARTFLO_API_TOKEN" in info.value.message
    assert OutboundCall.objects.get().status == CallStatus.FAILED


def test_unknown_call_is_resolved_by_a_later_event(asha, smartflo):
    smartflo.set_scenario("9876543210", hold=True)
    smartflo.add_fault(endpoint="click_to_call", timeout_rate=1.0, process=True, times=1)
    with pytest.raises(CallActionFailed):
        place(asha)
    call = OutboundCall.objects.get()
    assert call.status == CallStatus.UNKNOWN
    # Smartflo did place it (process=True): its events tell us what happened.
    (live,) = [c for c in smartflo.live_calls() if c["custom_identifier"] == str(call.custom_identifier)] or [None]
    assert live is not None
    call_event_ingest(payload=replay_events(smartflo, live["call_id"], count=1)[0])
    call.refresh_from_db()
    assert call.status == CallStatus.AGENT_RINGING
    assert call.call_id == live["call_id"]


def test_a_second_click_while_the_first_is_set_up_sends_nothing(asha, smartflo):
    smartflo.set_scenario("9876543210", hold=True)
    first = place(asha)
    with pytest.raises(ApplicationError) as info:
        place(asha)
    assert info.value.code == "call_in_progress"
    assert info.value.extra["call"]["id"] == first.pk
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1
    assert OutboundCall.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_click_reaches_smartflo_once(asha, smartflo):
    smartflo.add_fault(endpoint="click_to_call", latency=0.3)
    outcomes = []

    def click():
        from django.db import connection

        try:
            outcomes.append(place(asha).pk)
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, outcomes))[-1] == "call_in_progress"
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1


@pytest.mark.parametrize("bad", ["", "12345", "98765abcde"])
def test_bad_numbers_are_refused_before_smartflo(asha, smartflo, bad):
    with pytest.raises(ValidationError) as info:
        place(asha, bad)
    assert "destination_number" in info.value.message_dict
    assert smartflo.requests(path="/v1/click_to_call") == []


def test_blocked_agent_locally_is_refused(asha, smartflo):
    asha.blocked = True
    asha.save()
    with pytest.raises(ApplicationError) as info:
        place(asha)
    assert info.value.code == "agent_unavailable"
    assert smartflo.requests(path="/v1/click_to_call") == []
