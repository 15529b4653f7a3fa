"""Every smartflo_client operation against the sandbox over real HTTP: request accepted, answer parsed."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from contactcenter.smartflo import (
    IST,
    SmartfloAuthError,
    SmartfloClient,
    SmartfloRejectedError,
)


def wait_for(predicate, timeout: float = 5.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def default_agent(smartflo_client: SmartfloClient):
    return next(agent for agent in smartflo_client.list_agents() if agent.intercom == "1001")


def test_list_agents_parses_seeded_agents(smartflo_client):
    agents = smartflo_client.list_agents()
    assert {agent.name for agent in agents} >= {"Asha Rao", "Vikram Singh", "Meera Iyer"}
    asha = default_agent(smartflo_client)
    assert asha.follow_me_number == "+919876500001"
    assert asha.id and asha.eid
    assert asha.blocked is False


def test_add_agent_then_it_is_listed(smartflo_client, sandbox):
    created = smartflo_client.add_agent(name="Kiran Patel", follow_me_number="+91 98765 00042", intercom="4242")
    assert created.agent_id
    listed = {agent.id: agent for agent in smartflo_client.list_agents()}
    assert listed[created.agent_id].name == "Kiran Patel"
    assert listed[created.agent_id].intercom == "4242"
    (request,) = sandbox.requests(path="/v1/agent")
    assert request["json"] == {"name": "Kiran Patel", "follow_me_number": 9876500042, "intercom": 4242}


def test_add_agent_refusal_carries_the_provider_message(smartflo_client):
    with pytest.raises(SmartfloRejectedError) as info:
        smartflo_client.add_agent(name="Dup", follow_me_number="9876500043", intercom="1001")  # intercom taken
    assert info.value.status == 400
    assert "intercom" in info.value.provider_message.lower()


def test_click_to_call_runs_a_live_call_then_a_record(smartflo_client, sandbox):
    sandbox.set_scenario(destination_number="9876543210", hold=True)
    result = smartflo_client.click_to_call(
        agent_number="1001", destination_number="+919876543210", custom_identifier="cc-test-1"
    )
    assert result.success and result.message == "Originate successfully queued"
    assert result.call_id

    live = wait_for(
        lambda: [c for c in smartflo_client.live_calls() if c.call_id == result.call_id and c.state == "in_progress"]
    )
    call = live[0]
    assert call.custom_identifier == "cc-test-1"
    assert call.direction == "outbound"
    assert call.agent_name == "Asha Rao"
    assert call.created_at.tzinfo is not None

    assert smartflo_client.hangup(call_id=result.call_id).message == "Call hangup successful"
    assert not [c for c in smartflo_client.live_calls() if c.call_id == result.call_id]

    now = datetime.now(IST)
    records = wait_for(
        lambda: list(
            smartflo_client.iter_call_records(
                from_date=now - timedelta(hours=1), to_date=now + timedelta(minutes=1), call_id=result.call_id
            )
        )
    )
    assert records[0].call_id == result.call_id
    assert records[0].direction == "outbound"
    assert records[0].custom_identifier == "cc-test-1"
    assert records[0].started_at.tzinfo is not None


def test_hangup_of_an_unknown_call_is_rejected(smartflo_client):
    with pytest.raises(SmartfloRejectedError) as info:
        smartflo_client.hangup(call_id="1000000000.000000")
    assert info.value.status == 404
    assert info.value.provider_message


def test_transfer_moves_the_live_call_to_another_agent(smartflo_client, sandbox):
    sandbox.set_scenario(destination_number="9876543211", hold=True)
    call_id = smartflo_client.click_to_call(agent_number="1001", destination_number="9876543211").call_id
    wait_for(lambda: [c for c in smartflo_client.live_calls() if c.call_id == call_id and c.state == "in_progress"])
    result = smartflo_client.transfer(call_id=call_id, intercom="1002")
    assert result.message == "Redirect successful"
    (moved,) = [c for c in smartflo_client.live_calls() if c.call_id == call_id]
    assert moved.agent_name == "Vikram Singh"
    smartflo_client.hangup(call_id=call_id)


@pytest.mark.parametrize("method", ["monitor", "whisper", "barge"])
def test_supervision_options_on_a_live_call(smartflo_client, sandbox, method):
    sandbox.set_scenario(destination_number="9876543212", hold=True)
    call_id = smartflo_client.click_to_call(agent_number="1001", destination_number="9876543212").call_id
    wait_for(lambda: [c for c in smartflo_client.live_calls() if c.call_id == call_id and c.state == "in_progress"])
    supervisor = next(a for a in smartflo_client.list_agents() if a.intercom == "1003")
    assert getattr(smartflo_client, method)(call_id=call_id, agent_id=supervisor.id).success
    smartflo_client.hangup(call_id=call_id)


def test_broadcast_lead_then_support_call_announces_the_code(smartflo_client, sandbox):
    assert smartflo_client.broadcast_lead(lead_id=sandbox.otp_lead_id, phone="+919876543219", otp="482913").success
    assert smartflo_client.support_call(customer_number="9876543219", api_key=sandbox.c2c_api_key).success
    announcements = wait_for(lambda: sandbox.announcements(phone="9876543219"))
    assert announcements[-1]["otp"] == "482913"


def test_support_call_with_a_wrong_key_is_rejected(smartflo_client, sandbox):
    smartflo_client.broadcast_lead(lead_id=sandbox.otp_lead_id, phone="9876543218", otp="111111")
    with pytest.raises(SmartfloRejectedError):
        smartflo_client.support_call(customer_number="9876543218", api_key="wrong-key")
    assert sandbox.announcements(phone="9876543218") == []


def test_call_records_pagination_over_many_pages(smartflo_client, sandbox):
    start = datetime(2024, 5, 1, tzinfo=IST)
    end = datetime(2024, 5, 3, tzinfo=IST)
    sandbox.generate_records(count=1234, start=start, end=end, seed=7)
    first = smartflo_client.call_records(from_date=start, to_date=end, limit=100)
    assert (first.count, first.limit, first.size, first.page) == (1234, 100, 100, 1)
    assert first.last_page == 13 and first.has_next

    pages = list(smartflo_client.iter_call_record_pages(from_date=start, to_date=end, limit=100))
    assert [p.page for p in pages] == list(range(1, 14))
    assert pages[-1].size == 34
    ids = [r.call_id for p in pages for r in p.results]
    assert len(ids) == len(set(ids)) == 1234
    assert all(start <= r.started_at <= end for p in pages for r in p.results)


def test_call_records_filters_reach_the_sandbox(smartflo_client, sandbox):
    start = datetime(2024, 5, 1, tzinfo=IST)
    end = datetime(2024, 5, 2, tzinfo=IST)
    sandbox.generate_records(count=300, start=start, end=end, seed=3)
    inbound_missed = list(
        smartflo_client.iter_call_records(from_date=start, to_date=end, direction="inbound", call_type="m")
    )
    assert inbound_missed
    assert all(r.direction == "inbound" and r.status == "missed" for r in inbound_missed)
    long_calls = list(smartflo_client.iter_call_records(from_date=start, to_date=end, duration=60, operator=">"))
    assert long_calls and all(r.call_duration > 60 for r in long_calls)


def test_a_wrong_token_raises_auth_error_with_the_provider_message(sandbox):
    with (
        SmartfloClient(base_url=sandbox.base_url, token="wrong", timeout=1.0) as bad,
        pytest.raises(SmartfloAuthError) as info,
    ):
        bad.list_agents()
    assert info.value.status == 401
    assert info.value.provider_message


def test_bearer_form_of_the_token_is_accepted(sandbox):
    with SmartfloClient(base_url=sandbox.base_url, token=f"Bearer {sandbox.token}", timeout=1.0) as bearer:
        assert bearer.list_agents()
