"""`POST /agent`, `GET /agents` and the agent control operations."""

from __future__ import annotations

import pytest

AGENT_KEYS = {
    "id",
    "name",
    "follow_me_number",
    "eid",
    "intercom",
    "calls_answered",
    "calls_missed",
    "custom_status",
    "timegroup_name",
    "timegroup_id",
    "failover_destination",
    "failover_destination_name",
    "is_verified",
    "departments",
    "allowed_caller_ids",
    "agent_cdr",
    "associated_agent",
    "agent_groups",
    "sticky_settings",
    "product_clicktocall",
    "team_id",
    "team_name",
}


def test_the_default_agents_are_seeded_with_stable_ids(api):
    agents = api.get("/agents").json()
    assert [(a["name"], a["follow_me_number"], a["intercom"]) for a in agents] == [
        ("Asha Rao", "+919876500001", "1001"),
        ("Vikram Singh", "+919876500002", "1002"),
        ("Meera Iyer", "+919876500003", "1003"),
    ]
    assert [a["id"] for a in agents] == [100001, 100002, 100003]
    assert [a["eid"] for a in agents] == ["050600000100001", "050600000100002", "050600000100003"]


def test_an_agent_has_every_documented_field_with_the_documented_types(api):
    agent = api.get("/agents").json()[0]
    assert set(agent) == AGENT_KEYS
    assert isinstance(agent["id"], int)
    assert isinstance(agent["eid"], str)
    assert agent["calls_answered"] == 0 and agent["calls_missed"] == 0 and agent["custom_status"] == 0
    assert agent["allowed_caller_ids"][0].keys() == {"id", "number"}
    assert agent["sticky_settings"] == {"timeout": None, "ring_strategy": None, "alternate_numbers": [""]}
    assert agent["product_clicktocall"] == 1 and isinstance(agent["team_id"], int) and agent["team_name"]


@pytest.mark.parametrize(
    ("follow_me_number", "intercom"),
    [(9123456780, 2001), ("9123456780", "2001"), ("+91 91234-56780", None), ("09123456780", "")],
)
def test_adding_an_agent_accepts_numbers_as_ints_or_strings(api, follow_me_number, intercom):
    body = {"name": "Kiran Patel", "follow_me_number": follow_me_number}
    if intercom is not None:
        body["intercom"] = intercom
    response = api.post("/agent", json=body)
    assert response.status_code == 200
    data = response.json()
    assert data.keys() == {"success", "message", "agent_id"}
    assert data["success"] is True and data["message"] == "Agent added successfully"
    assert isinstance(data["agent_id"], str) and data["agent_id"].isdigit()
    listed = {str(a["id"]): a for a in api.get("/agents").json()}[data["agent_id"]]
    assert listed["name"] == "Kiran Patel"
    assert listed["follow_me_number"] == "+919123456780"
    assert listed["intercom"] == ("2001" if intercom else None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"follow_me_number": "9123456780"}, "name"),
        ({"name": "  ", "follow_me_number": "9123456780"}, "name"),
        ({"name": "X"}, "follow_me_number"),
        ({"name": "X", "follow_me_number": "12345"}, "follow_me_number"),
        ({"name": "X", "follow_me_number": "+1 415 555 0123"}, "follow_me_number"),
        ({"name": "X", "follow_me_number": "+919876500001"}, "follow_me_number"),  # taken by Asha
        ({"name": "X", "follow_me_number": "9123456780", "intercom": "12"}, "intercom"),
        ({"name": "X", "follow_me_number": "9123456780", "intercom": "12a4"}, "intercom"),
        ({"name": "X", "follow_me_number": "9123456780", "intercom": 1001}, "intercom"),  # taken
    ],
)
def test_adding_an_invalid_agent_is_400_naming_the_field(api, body, field):
    response = api.post("/agent", json=body)
    assert response.status_code == 400
    data = response.json()
    assert data["success"] is False
    assert field in data["message"]
    assert len(api.get("/agents").json()) == 3


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_400(api, raw):
    response = api.post("/agent", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_block_toggles_custom_status(api, control):
    assert control.post("/agents/100002/block").json()["custom_status"] == 1
    assert api.get("/agents").json()[1]["custom_status"] == 1
    assert control.post("/agents/100002/block").json()["custom_status"] == 0
    assert control.post("/agents/100002/block", json={"blocked": True}).json()["custom_status"] == 1
    assert control.post("/agents/100002/block", json={"blocked": True}).json()["custom_status"] == 1


def test_deleting_an_agent_makes_it_vanish_upstream(api, control):
    assert control.delete("/agents/050600000100003").json()["name"] == "Meera Iyer"
    assert [a["name"] for a in api.get("/agents").json()] == ["Asha Rao", "Vikram Singh"]
    assert control.delete("/agents/100003").status_code == 404


def test_agents_can_be_added_without_the_defaults(sandbox):
    from sandbox.server import SandboxServer

    empty = SandboxServer(seed_agents=False)
    try:
        assert empty.agents() == []
        assert empty.add_agent(name="Solo", follow_me_number="9000000001")["id"] == 100001
    finally:
        empty.stop()
