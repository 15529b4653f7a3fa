"""The calls API: click to call, idempotency, hang up, transfer, and who may act on which call."""

from __future__ import annotations

import json

import pytest

from calls.models import CallStatus, OutboundCall

pytestmark = pytest.mark.django_db

C2C = "/api/v1/calls/click-to-call/"


def post(client, url, body=None, **headers):
    return client.post(url, body or {}, content_type="application/json", **headers)


def test_agent_click_to_call_returns_201(asha_client, asha, smartflo):
    response = post(asha_client, C2C, {"destination_number": "+91 98765 43210"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] in ("originating", "agent_ringing")
    assert body["custom_identifier"] and body["call_id"] and body["id"]
    assert body["agent"] == asha.pk


def test_agents_dial_only_from_their_own_number(asha_client, vikram, smartflo):
    response = post(asha_client, C2C, {"destination_number": "9876543210", "agent": vikram.pk})
    assert response.status_code == 403
    assert smartflo.requests(path="/v1/click_to_call") == []


def test_supervisor_picks_the_agent(supervisor_client, vikram, smartflo):
    response = post(supervisor_client, C2C, {"destination_number": "9876543210", "agent": vikram.pk})
    assert response.status_code == 201
    assert OutboundCall.objects.get().agent == vikram
    missing = post(supervisor_client, C2C, {"destination_number": "9876543210"})
    assert missing.status_code == 400 and "agent" in missing.json()["extra"]["fields"]


def test_bad_number_is_a_400_naming_the_field(asha_client, smartflo):
    response = post(asha_client, C2C, {"destination_number": "12345"})
    assert response.status_code == 400
    assert "destination_number" in response.json()["extra"]["fields"]
    assert smartflo.requests(path="/v1/click_to_call") == []


def test_refusal_is_502_with_the_provider_message(asha_client, asha, smartflo):
    smartflo.block_agent(asha.smartflo_id)
    response = post(asha_client, C2C, {"destination_number": "9876543210"})
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == "provider_rejected"
    assert body["extra"]["provider_message"] in body["message"]
    assert body["extra"]["call"]["status"] == "failed"


def test_timeout_is_504_unknown(asha_client, smartflo):
    smartflo.add_fault(endpoint="click_to_call", timeout_rate=1.0)
    response = post(asha_client, C2C, {"destination_number": "9876543210"})
    assert response.status_code == 504
    assert response.json()["code"] == "provider_unknown_outcome"
    assert response.json()["extra"]["call"]["status"] == "unknown"


def test_idempotency_key_returns_the_first_answer_and_dials_once(asha_client, smartflo):
    first = post(asha_client, C2C, {"destination_number": "9876543210"}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(asha_client, C2C, {"destination_number": "9876543210"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1
    other = post(asha_client, C2C, {"destination_number": "9876543211"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_an_idempotency_key_too_long_is_refused_naming_the_header(asha_client, smartflo):
    response = post(asha_client, C2C, {"destination_number": "9876543210"}, HTTP_IDEMPOTENCY_KEY="k" * 201)
    assert response.status_code == 400
    assert response.json()["extra"] == {"fields": {"Idempotency-Key": ["At most 200 characters."]}}
    assert smartflo.requests(path="/v1/click_to_call") == []


def test_idempotency_key_replays_a_timeout_too(asha_client, smartflo):
    smartflo.add_fault(endpoint="click_to_call", timeout_rate=1.0, times=1)
    first = post(asha_client, C2C, {"destination_number": "9876543210"}, HTTP_IDEMPOTENCY_KEY="k-2")
    again = post(asha_client, C2C, {"destination_number": "9876543210"}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert first.status_code == again.status_code == 504
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1


def live_call(client, smartflo, number="9876543210"):
    smartflo.set_scenario(number, hold=True)
    body = post(client, C2C, {"destination_number": number}).json()
    smartflo.wait_for_state(body["call_id"], "in_progress")
    return body


def test_hangup_by_the_calls_agent(asha_client, smartflo):
    body = live_call(asha_client, smartflo)
    response = post(asha_client, f"/api/v1/calls/{body['call_id']}/hangup/")
    assert response.status_code == 200
    assert response.json()["status"] in ("completed", "missed")
    assert smartflo.requests(path="/v1/call/hangup")[0]["json"] == {"call_id": body["call_id"]}


def test_transfer_to_a_colleague(asha_client, vikram, smartflo):
    body = live_call(asha_client, smartflo)
    response = post(asha_client, f"/api/v1/calls/{body['id']}/transfer/", {"agent": vikram.pk})
    assert response.status_code == 200, response.content
    assert response.json()["transferred_to"] == vikram.pk
    (request,) = smartflo.requests(path="/v1/call/options")
    assert request["json"] == {"type": 4, "call_id": body["call_id"], "intercom": vikram.intercom}
    (live,) = [c for c in smartflo.live_calls() if c["call_id"] == body["call_id"]]
    assert live["agent_name"] == "Vikram Singh"


def test_a_transfer_before_the_customer_answers_is_refused_with_409(asha_client, vikram, smartflo):
    """As the agent's panel and the live board: a transfer needs the customer on the line."""
    smartflo.set_scenario("9876543210", ring_seconds=30)
    body = post(asha_client, C2C, {"destination_number": "9876543210"}).json()
    smartflo.wait_for_state(body["call_id"], "agent_ringing")
    smartflo.clear_requests()
    response = post(asha_client, f"/api/v1/calls/{body['id']}/transfer/", {"agent": vikram.pk})
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "call_not_answered"
    assert smartflo.requests(path="/v1/call/options") == []
    assert asha_client.get(f"/api/v1/calls/{body['id']}/").json()["transferred_to"] is None


@pytest.mark.parametrize("action", ["hangup", "transfer", "detail"])
def test_another_agents_call_is_404_and_nothing_is_sent(asha_client, vikram_client, vikram, smartflo, action):
    body = live_call(asha_client, smartflo)
    smartflo.clear_requests()
    for reference in (body["call_id"], str(body["id"]), body["custom_identifier"]):
        if action == "detail":
            response = vikram_client.get(f"/api/v1/calls/{reference}/")
        else:
            response = post(vikram_client, f"/api/v1/calls/{reference}/{action}/", {"agent": vikram.pk})
        assert response.status_code == 404, (action, reference)
    assert smartflo.requests(path="/v1/*") == []


def test_supervisor_acts_on_any_call(asha_client, supervisor_client, smartflo):
    body = live_call(asha_client, smartflo)
    assert supervisor_client.get(f"/api/v1/calls/{body['id']}/").status_code == 200
    response = post(supervisor_client, f"/api/v1/calls/{body['call_id']}/hangup/")
    assert response.status_code == 200


def test_supervisor_hangs_up_a_call_we_did_not_place(supervisor_client, smartflo):
    smartflo.set_scenario("9876543299", hold=True)
    call_id = smartflo.click_to_call(agent_number="1002", destination_number="9876543299")
    smartflo.wait_for_state(call_id, "in_progress")
    response = post(supervisor_client, f"/api/v1/calls/{call_id}/hangup/")
    assert response.status_code == 200
    assert not [c for c in smartflo.live_calls() if c["call_id"] == call_id]


def test_supervisor_transfers_a_call_we_did_not_place_and_an_agent_may_not(supervisor_client, vikram, smartflo,
                                                                         asha_client):  # fmt: skip
    smartflo.set_scenario("9876543299", hold=True)
    call_id = smartflo.click_to_call(agent_number="1002", destination_number="9876543299")
    smartflo.wait_for_state(call_id, "in_progress")
    refused = post(asha_client, f"/api/v1/calls/{call_id}/transfer/", {"agent": vikram.pk})
    assert refused.status_code == 404  # not hers, and agents act on their own calls only
    response = post(supervisor_client, f"/api/v1/calls/{call_id}/transfer/", {"agent": vikram.pk})
    assert response.status_code == 200, response.content
    assert response.json() == {"call_id": call_id, "status": "transfer_requested", "transferred_to": vikram.pk}
    (live,) = [c for c in smartflo.live_calls() if c["call_id"] == call_id]
    assert live["agent_name"] == "Vikram Singh"
    missing = post(supervisor_client, "/api/v1/calls/1715235734.404/transfer/", {"agent": vikram.pk})
    assert missing.status_code == 404 and missing.json()["code"] == "call_not_found"

    smartflo.set_scenario("9876543298", ring_seconds=30)  # one still ringing: as the board, not yet
    ringing = smartflo.click_to_call(agent_number="1002", destination_number="9876543298")
    smartflo.wait_for_state(ringing, "agent_ringing")
    early = post(supervisor_client, f"/api/v1/calls/{ringing}/transfer/", {"agent": vikram.pk})
    assert early.status_code == 409 and early.json()["code"] == "call_not_answered"


def test_a_supervisor_transfer_by_smartflos_id_of_a_call_we_placed_is_recorded_on_it(
    asha_client, supervisor_client, vikram, smartflo
):
    """Our call, named by Smartflo's id before we stored it: it is ours (found by our identifier)."""
    body = live_call(asha_client, smartflo)
    OutboundCall.objects.filter(pk=body["id"]).update(call_id=None)
    response = post(supervisor_client, f"/api/v1/calls/{body['call_id']}/transfer/", {"agent": vikram.pk})
    assert response.status_code == 200, response.content
    assert response.json()["id"] == body["id"] and response.json()["transferred_to"] == vikram.pk
    assert OutboundCall.objects.get(pk=body["id"]).call_id == body["call_id"]


def test_supervisor_hangup_of_a_call_smartflo_does_not_list_is_404(supervisor_client, smartflo):
    # Smartflo's "Call not found or already ended" is not Smartflo failing (it was a 502).
    response = post(supervisor_client, "/api/v1/calls/1715235734.999999/hangup/")
    assert response.status_code == 404
    assert response.json()["code"] == "call_not_found"


def test_acting_on_our_call_that_already_ended_in_smartflo_is_409(supervisor_client, asha, vikram, smartflo):
    # Our row still says live (the hangup event has not arrived); Smartflo knows better.
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.IN_PROGRESS, call_id="1.6"
    )
    response = post(supervisor_client, f"/api/v1/calls/{call.pk}/transfer/", {"agent": vikram.pk})
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "call_not_live"
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS  # a transfer's 404 may name the target: never settle on it

    response = post(supervisor_client, f"/api/v1/calls/{call.pk}/hangup/")
    assert response.status_code == 409 and response.json()["code"] == "call_not_live"
    # ...hang-up ends it here too (answered, not listed live, refused as not live): completed
    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED
    assert response.json()["extra"]["call"]["status"] == "completed"


def test_a_ghost_call_smartflo_no_longer_lists_is_ended_by_hangup_and_frees_the_agent(asha_client, asha, smartflo):
    """Its hangup event was lost: our row says in progress (which blocks Asha's next dial for
    hours), Smartflo lists nothing. Hang-up ends it here, and Asha can dial again at once."""
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.IN_PROGRESS, call_id="1.7"
    )
    blocked = post(asha_client, C2C, {"destination_number": "9876543211"})
    assert blocked.status_code == 409 and blocked.json()["code"] == "call_in_progress"

    response = post(asha_client, f"/api/v1/calls/{call.pk}/hangup/")
    assert response.status_code == 409 and response.json()["code"] == "call_not_live"
    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED

    again = post(asha_client, C2C, {"destination_number": "9876543211"})
    assert again.status_code in (200, 201), again.content


def test_a_call_not_yet_answered_is_not_settled_by_a_refused_hangup(asha_client, asha, smartflo):
    """Just dialled (Smartflo may not list it yet) or ringing (an "answered" event may be on its
    way): a 404 on hang-up must not decide how it ended."""
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.AGENT_RINGING, call_id="1.8"
    )
    response = post(asha_client, f"/api/v1/calls/{call.pk}/hangup/")
    assert response.status_code == 409 and response.json()["code"] == "call_not_live"
    call.refresh_from_db()
    assert call.status == CallStatus.AGENT_RINGING


def test_hangup_of_an_ended_call_is_409(asha_client, asha, smartflo):
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED, call_id="1.5"
    )
    response = post(asha_client, f"/api/v1/calls/{call.pk}/hangup/")
    assert response.status_code == 409
    assert response.json()["code"] == "call_ended"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", C2C),
        ("post", "/api/v1/calls/1/hangup/"),
        ("post", "/api/v1/calls/1/transfer/"),
        ("get", "/api/v1/calls/1/"),
    ],
)
def test_anonymous_gets_401(client, db, method, url):
    response = getattr(client, method)(url)
    assert response.status_code == 401


def test_idempotency_key_does_not_lock_in_a_refusal_that_placed_nothing(asha_client, smartflo):
    # Smartflo unreachable before anything is sent: a 503 that the same key may retry.
    from django.test import override_settings

    with override_settings(SMARTFLO_BASE_URL="http://127.0.0.1:9/v1"):
        first = post(asha_client, C2C, {"destination_number": "9876543210"}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert first.status_code == 503
    second = post(asha_client, C2C, {"destination_number": "9876543210"}, HTTP_IDEMPOTENCY_KEY="k-3")
    assert second.status_code == 201
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1


def test_a_404_that_is_not_smartflos_own_answer_stays_a_provider_error():
    """An HTML 404 (a wrong SMARTFLO_BASE_URL, a proxy) carries no provider message: it is not
    Smartflo saying the call ended."""
    from calls.services.actions import _action_failed
    from contactcenter.smartflo import SmartfloRejectedError

    html = _action_failed(SmartfloRejectedError("Not Found", status=404, operation="hangup"), None)
    assert (html.status_code, html.code) == (502, "provider_rejected")
    own = _action_failed(
        SmartfloRejectedError("Call not found", status=404, operation="hangup", provider_message="Call not found"),
        None,
    )
    assert (own.status_code, own.code) == (404, "call_not_found")


def test_a_number_that_cannot_exist_is_refused_before_smartflo_hears_of_it(asha_client, smartflo):
    response = post(asha_client, C2C, {"destination_number": "0000000000"})
    assert response.status_code == 400, response.content
    assert "No such number" in json.dumps(response.json())
    assert smartflo.requests(path="/v1/click_to_call") == []
