"""Parsing of real-shaped provider answers into the smartflo_client's dataclasses."""

from datetime import UTC, datetime

from contactcenter.smartflo import Agent, CallRecord, LiveCall
from contactcenter.smartflo.timefmt import IST

RECORD = {
    "id": "1",
    "call_id": "1627373566.350603",
    "uuid": "61111f5e708c5",
    "date": "2021-03-10",
    "time": "17:16:18",
    "end_stamp": "2021-03-10 17:17:48",
    "missed_agents": [{"name": "sales agent", "number": "98XXXXXXX"}],
    "status": "Answered",
    "department": ["sales department"],
    "destination": "sales department",
    "direction": "Inbound",
    "call_duration": "90",
    "answered_seconds": "72",
    "minutes_consumed": "2",
    "services": "Click to Call, IVR",
    "broadcast_id": "3432",
    "dtmf_input": "1",
    "client_number": "+919876543210",
    "hangup_cause": "NORMAL_CLEARING",
    "did_number": "918069000000",
    "notes": "missed the last call",
    "contact_details": {"name": "Ravi", "number": "919876543210"},
    "recording_url": "https://recordings.example/1627373566.350603.mp3",
    "agent_name": "Asha Rao",
    "agent_number": "+919876500001",
    "agent_id": "0506000",
    "custom_identifier": "c0ffee",
}


def test_call_record_parses_every_documented_field():
    record = CallRecord.from_api(RECORD)
    assert record.call_id == "1627373566.350603"
    assert record.id == 1
    assert record.uuid == "61111f5e708c5"
    assert record.started_at == datetime(2021, 3, 10, 17, 16, 18, tzinfo=IST)
    assert record.started_at.astimezone(UTC) == datetime(2021, 3, 10, 11, 46, 18, tzinfo=UTC)
    assert record.ended_at == datetime(2021, 3, 10, 17, 17, 48, tzinfo=IST)
    assert record.missed_agents[0].name == "sales agent"
    assert record.missed_agents[0].number == "98XXXXXXX"
    assert record.status == "answered" and record.answered
    assert record.department == ("sales department",)
    assert record.destination == "sales department"
    assert record.direction == "inbound"
    assert (record.call_duration, record.answered_seconds, record.minutes_consumed) == (90, 72, 2)
    assert record.services == ("Click to Call", "IVR")
    assert record.broadcast_id == "3432"
    assert record.dtmf_input == "1"
    assert record.client_number == "+919876543210"
    assert record.hangup_cause == "NORMAL_CLEARING"
    assert record.did_number == "918069000000"
    assert record.notes == "missed the last call"
    assert (record.contact_name, record.contact_number) == ("Ravi", "919876543210")
    assert record.recording_url.endswith(".mp3")
    assert (record.agent_name, record.agent_number, record.agent_id) == ("Asha Rao", "+919876500001", "0506000")
    assert record.custom_identifier == "c0ffee"
    assert record.raw is RECORD


def test_call_record_tolerates_nulls_and_status_objects():
    record = CallRecord.from_api(
        {"call_id": 1627373566.35, "status": {"name": "Missed"}, "call_duration": None, "end_stamp": "", "date": None}
    )
    assert record.call_id == "1627373566.35"
    assert record.status == "missed" and not record.answered
    assert record.call_duration == 0
    assert record.started_at is None and record.ended_at is None
    assert record.missed_agents == ()


def test_agent_parses_the_documented_example():
    agent = Agent.from_api(
        {
            "id": 111111,
            "name": "Test Agent",
            "follow_me_number": "+919876500001",
            "eid": "0506000111",
            "intercom": None,
            "calls_answered": 1,
            "calls_missed": 0,
            "custom_status": 1,
            "is_verified": 1,
            "departments": [],
            "allowed_caller_ids": [{"id": "2222222", "number": "918069000000"}],
            "product_clicktocall": 1,
            "team_id": 7,
            "team_name": "North",
        }
    )
    assert agent.id == "111111"
    assert agent.intercom == ""
    assert agent.blocked is True
    assert agent.is_verified and agent.product_clicktocall
    assert agent.allowed_caller_ids[0].number == "918069000000"
    assert (agent.team_id, agent.team_name) == (7, "North")


def test_live_call_parses_created_at_as_aware():
    call = LiveCall.from_api(
        {
            "call_id": "1715235734.129662",
            "state": "In_Progress",
            "direction": "outbound",
            "agent_name": "Asha",
            "customer_number": "+919876543210",
            "did": "918069000000",
            "created_at": "2024-05-09 11:52:14",
        }
    )
    assert call.state == "in_progress"
    assert call.created_at == datetime(2024, 5, 9, 11, 52, 14, tzinfo=IST)
