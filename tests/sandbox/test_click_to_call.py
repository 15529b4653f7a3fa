"""`POST /click_to_call`, the call life cycle, `GET /live_calls` and `POST /call/hangup`."""

from __future__ import annotations

import re
import time

import pytest

from tests.sandbox.conftest import CUSTOMER, place_call
from tests.waiting import wait_until

LIVE_KEYS = {
    "call_id",
    "uuid",
    "state",
    "direction",
    "agent_name",
    "agent_number",
    "agent_id",
    "customer_number",
    "did",
    "created_at",
    "custom_identifier",
    "monitored_by",
}


def click(api, **changes):
    body = {"agent_number": "1001", "destination_number": CUSTOMER, "async": 1, **changes}
    return api.post("/click_to_call", json={k: v for k, v in body.items() if v is not None})


def test_success_answer_is_exactly_the_documented_body(api):
    response = click(api)
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Originate successfully queued"}


def test_get_call_id_adds_a_unique_epoch_prefixed_call_id(api):
    first = click(api, get_call_id=1).json()["call_id"]
    second = click(api, get_call_id="1").json()["call_id"]
    assert first != second
    for call_id in (first, second):
        assert re.fullmatch(r"\d{10}\.\d{6}", call_id)
        assert abs(int(call_id.split(".")[0]) - time.time()) < 5


@pytest.mark.parametrize(
    "agent_number",
    ["1001", "050600000100001", "9876500001", "+919876500001", "919876500001", "09876500001", "98765-00001"],
)
def test_the_agent_may_be_named_by_eid_intercom_or_follow_me_number(api, agent_number):
    call_id = place_call(api, agent=agent_number)
    (live,) = [c for c in api.get("/live_calls").json() if c["call_id"] == call_id]
    assert live["agent_name"] == "Asha Rao"


@pytest.mark.parametrize(
    ("destination", "shown"),
    [
        ("9845012345", "+919845012345"),
        ("+919845012345", "+919845012345"),
        ("919845012345", "+919845012345"),
        ("09845012345", "+919845012345"),
        ("98450 12345", "+919845012345"),
        ("+1 415-555-0123", "+14155550123"),
    ],
)
def test_customer_numbers_are_accepted_in_every_documented_form(api, destination, shown):
    call_id = place_call(api, destination=destination)
    (live,) = [c for c in api.get("/live_calls").json() if c["call_id"] == call_id]
    assert live["customer_number"] == shown


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"async": 0}, "async: 1"),
        ({"async": None}, "async: 1"),
        ({"agent_number": None}, "agent_number"),
        ({"agent_number": "5555"}, "Agent not found"),
        ({"destination_number": None}, "destination_number"),
        ({"destination_number": "12345"}, "destination_number"),
        ({"destination_number": "98450123451234567"}, "destination_number"),
        ({"call_timeout": "soon"}, "call_timeout"),
        ({"call_timeout": 0}, "call_timeout"),
        ({"caller_id": "abc"}, "caller_id"),
    ],
)
def test_invalid_requests_are_400_with_a_clear_message(api, changes, message):
    response = click(api, **changes)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert message in response.json()["message"]
    assert api.get("/live_calls").json() == []


def test_a_blocked_agent_cannot_be_called(sandbox, api):
    sandbox.block_agent(100001, True)
    response = click(api)
    assert response.status_code == 400
    assert response.json()["message"] == "Agent is blocked"


def test_an_answered_call_goes_through_every_state_then_becomes_a_record(sandbox, api):
    sandbox.set_scenario(CUSTOMER, ring_seconds=0.3, talk_seconds=0.3)
    call_id = place_call(api, custom_identifier="cc-42")
    seen: list[str] = []

    def track():
        live = [c for c in api.get("/live_calls").json() if c["call_id"] == call_id]
        if live and (not seen or seen[-1] != live[0]["state"]):
            seen.append(live[0]["state"])
        return not live

    wait_until(track, timeout=5)
    assert seen == ["agent_ringing", "agent_answered", "customer_ringing", "in_progress"]

    record = sandbox.wait_for_record(call_id)
    assert record["status"] == "answered"
    assert record["direction"] == "outbound"
    assert record["services"] == "Click to Call"
    assert record["hangup_cause"] == "NORMAL_CLEARING"
    assert record["recording_url"] == f"{sandbox.url}/recordings/{call_id}.mp3"
    assert (record["agent_name"], record["agent_number"], record["agent_id"]) == ("Asha Rao", "+919876500001", 100001)
    assert record["client_number"] == "+919845012345"
    assert record["custom_identifier"] == "cc-42"
    assert record["missed_agents"] == []
    assert 1 <= record["answered_seconds"] <= record["call_duration"]
    assert api.get("/agents").json()[0]["calls_answered"] == 1


def test_a_live_call_has_the_documented_shape(sandbox, api):
    sandbox.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api, custom_identifier="shape")
    live = sandbox.wait_for_state(call_id, "in_progress")
    assert set(live) == LIVE_KEYS
    assert live["direction"] == "outbound"
    assert live["did"] == "918062000000"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", live["created_at"])
    assert live["custom_identifier"] == "shape"
    assert live["monitored_by"] == []


def test_a_caller_id_becomes_the_did(sandbox, api):
    call_id = place_call(api, caller_id=8069000001)
    (live,) = api.get("/live_calls").json()
    assert live["call_id"] == call_id and live["did"] == "918069000001"


def test_an_agent_who_does_not_answer_makes_a_missed_call(sandbox, api):
    sandbox.set_scenario(CUSTOMER, agent_answers=False)
    call_id = place_call(api)
    record = sandbox.wait_for_record(call_id)
    assert record["status"] == "missed"
    assert record["missed_agents"] == [{"name": "Asha Rao", "number": "+919876500001"}]
    assert record["recording_url"] is None
    assert record["answered_seconds"] == 0
    assert record["hangup_cause"] == "NO_ANSWER"
    agent = api.get("/agents").json()[0]
    assert (agent["calls_answered"], agent["calls_missed"]) == (0, 1)


def test_a_customer_who_does_not_answer_makes_a_missed_call(sandbox, api):
    sandbox.set_scenario(CUSTOMER, customer_answers=False)
    call_id = place_call(api)
    record = sandbox.wait_for_record(call_id)
    assert record["status"] == "missed"
    assert record["missed_agents"] == []
    assert record["hangup_cause"] == "NO_USER_RESPONSE"
    assert api.get("/agents").json()[0]["calls_answered"] == 1


def test_a_held_call_stays_in_progress_until_hung_up(sandbox, api):
    sandbox.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api)
    sandbox.wait_for_state(call_id, "in_progress")
    time.sleep(2 * sandbox.config.talk_seconds)
    assert [c["state"] for c in api.get("/live_calls").json()] == ["in_progress"]

    response = api.post("/call/hangup", json={"call_id": call_id})
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Call hangup successful"}
    assert api.get("/live_calls").json() == []
    record = sandbox.record(call_id)
    assert record["status"] == "answered"
    assert record["hangup_cause"] == "NORMAL_CLEARING"


def test_hanging_up_a_ringing_call_records_it_as_missed(sandbox, api):
    sandbox.set_scenario(CUSTOMER, ring_seconds=5)
    call_id = place_call(api)
    assert api.post("/call/hangup", json={"call_id": call_id}).status_code == 200
    record = sandbox.record(call_id)
    assert record["status"] == "missed"
    assert record["hangup_cause"] == "ORIGINATOR_CANCEL"


def test_a_scenario_applies_only_to_its_destination_and_times(sandbox, api):
    sandbox.set_scenario("+91 98450 12345", agent_answers=False, times=1)
    first = place_call(api)
    other = place_call(api, destination="9845099999")
    second = place_call(api)
    assert sandbox.wait_for_record(first)["status"] == "missed"
    assert sandbox.wait_for_record(other)["status"] == "answered"
    assert sandbox.wait_for_record(second)["status"] == "answered"


def test_scenarios_can_be_set_over_the_control_api(sandbox, api, control):
    response = control.post("/scenario", json={"destination_number": "+919845012345", "hold": True})
    assert response.status_code == 200
    assert response.json()["destination_number"] == CUSTOMER
    call_id = place_call(api)
    sandbox.wait_for_state(call_id, "in_progress")
    assert control.get("/scenario").json()[CUSTOMER]["hold"] is True
    assert control.post("/scenario", json={"destination_number": CUSTOMER, "hold": "yes"}).status_code == 400
    assert control.post("/scenario", json={"destination_number": CUSTOMER, "color": 1}).status_code == 400


def test_call_timeout_ends_the_call_after_that_many_scaled_seconds(sandbox, api):
    sandbox.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api, call_timeout=10)  # 10 provider seconds = 0.15 s at this server's scale
    record = sandbox.wait_for_record(call_id, timeout=3)
    assert record["status"] == "answered"
    assert record["hangup_cause"] == "ALLOTTED_TIMEOUT"


def test_hanging_up_an_unknown_call_is_404(api):
    response = api.post("/call/hangup", json={"call_id": "1000000000.000000"})
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_hangup_without_call_id_is_400(api):
    response = api.post("/call/hangup", json={})
    assert response.status_code == 400
    assert "call_id" in response.json()["message"]


def test_live_calls_filter_by_agent_number_and_direction(sandbox, api):
    sandbox.set_scenario(CUSTOMER, hold=True)
    sandbox.set_scenario("9845099999", hold=True)
    asha = place_call(api, agent="1001")
    vikram = place_call(api, agent="1002", destination="9845099999")

    def ids(**params):
        return {c["call_id"] for c in api.get("/live_calls", params=params).json()}

    assert ids() == {asha, vikram}
    assert ids(agent_number="+919876500002") == {vikram}
    assert ids(agent_number="1001") == {asha}
    assert ids(direction="OUTBOUND") == {asha, vikram}
    assert ids(direction="inbound") == set()


def test_a_party_hanging_up_can_be_simulated_over_the_control_api(sandbox, api, control):
    sandbox.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api)
    sandbox.wait_for_state(call_id, "in_progress")
    assert control.post(f"/calls/{call_id}/hangup").json() == {"success": True}
    assert sandbox.record(call_id)["status"] == "answered"
    assert control.post(f"/calls/{call_id}/hangup").status_code == 404


def test_a_call_id_sent_as_a_json_number_is_understood(sandbox, api):
    sandbox.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api)
    response = api.post(
        "/call/hangup", content=f'{{"call_id": {call_id}}}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
