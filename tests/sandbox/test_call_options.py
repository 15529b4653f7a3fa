"""`POST /call/options`: transfer (4) and monitor / whisper / barge (1-3)."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import CUSTOMER, place_call


@pytest.fixture
def call_id(sandbox, api):
    """A call held in progress with Asha Rao (intercom 1001)."""
    sandbox.set_scenario(CUSTOMER, hold=True)
    call_id = place_call(api)
    sandbox.wait_for_state(call_id, "in_progress")
    return call_id


def options(api, **body):
    return api.post("/call/options", json=body)


def live(api, call_id):
    (call,) = [c for c in api.get("/live_calls").json() if c["call_id"] == call_id]
    return call


def test_transfer_to_an_intercom_moves_the_call_to_that_agent(sandbox, api, call_id):
    response = options(api, type=4, call_id=call_id, intercom="1002")
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Redirect successful"}
    assert (live(api, call_id)["agent_name"], live(api, call_id)["agent_id"]) == ("Vikram Singh", 100002)

    api.post("/call/hangup", json={"call_id": call_id})
    record = sandbox.record(call_id)
    assert (record["agent_name"], record["agent_number"], record["agent_id"]) == (
        "Vikram Singh",
        "+919876500002",
        100002,
    )
    events = [e["event"] for e in sandbox.events(call_id=call_id)]
    assert events[-2:] == ["transferred", "hangup"]


@pytest.mark.parametrize("intercom", [1003, "9876500003", "+91 98765 00003"])
def test_transfer_accepts_an_intercom_number_or_a_follow_me_number(api, call_id, intercom):
    assert options(api, type="4", call_id=call_id, intercom=intercom).status_code == 200
    assert live(api, call_id)["agent_name"] == "Meera Iyer"


def test_transfer_to_an_outside_mobile(sandbox, api, call_id):
    assert options(api, type=4, call_id=call_id, intercom="9123456789").status_code == 200
    call = live(api, call_id)
    assert (call["agent_id"], call["agent_number"]) == (None, "+919123456789")


@pytest.mark.parametrize(
    ("intercom", "status"),
    [(None, 400), ("12", 400), ("not-a-number", 400), ("9999", 404)],
)
def test_transfer_needs_a_known_intercom_or_a_mobile(api, call_id, intercom, status):
    response = options(api, type=4, call_id=call_id, intercom=intercom)
    assert response.status_code == status
    assert response.json()["success"] is False
    assert live(api, call_id)["agent_name"] == "Asha Rao"


@pytest.mark.parametrize(("option", "mode"), [(1, "monitor"), (2, "whisper"), (3, "barge")])
def test_a_supervisor_can_monitor_whisper_or_barge(api, call_id, option, mode):
    response = options(api, type=option, call_id=call_id, agent_id="100003")
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": f"{mode.capitalize()} successful"}
    (entry,) = live(api, call_id)["monitored_by"]
    assert (entry["agent_id"], entry["agent_name"], entry["mode"]) == (100003, "Meera Iyer", mode)


def test_a_supervisor_may_be_named_by_eid_and_switch_mode(api, call_id):
    options(api, type=1, call_id=call_id, agent_id="050600000100003")
    options(api, type=3, call_id=call_id, agent_id=100003)
    assert [m["mode"] for m in live(api, call_id)["monitored_by"]] == ["barge"]


@pytest.mark.parametrize(("agent_id", "status"), [(None, 400), ("", 400), ("424242", 404)])
def test_supervision_needs_a_known_agent(api, call_id, agent_id, status):
    response = options(api, type=1, call_id=call_id, agent_id=agent_id)
    assert response.status_code == status
    assert response.json()["success"] is False


@pytest.mark.parametrize("option", [0, 5, "x", None])
def test_an_unknown_type_is_400(api, call_id, option):
    response = options(api, type=option, call_id=call_id, intercom="1002")
    assert response.status_code == 400
    assert "type" in response.json()["message"]


def test_options_on_a_call_that_is_not_live_are_404(api):
    response = options(api, type=4, call_id="1000000000.000000", intercom="1002")
    assert response.status_code == 404
    assert response.json()["success"] is False
