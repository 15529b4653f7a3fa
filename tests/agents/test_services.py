"""Creating agents in Smartflo and here in one action, and syncing the list."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from agents.models import Agent
from agents.services import agent_create, agent_sync
from contactcenter.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def test_create_sends_the_documented_request_and_stores_the_returned_id(smartflo):
    agent = agent_create(name="Kiran Patel", follow_me_number="098765 00042", intercom="4242")
    (request,) = smartflo.requests(path="/v1/agent")
    assert request["method"] == "POST"
    assert request["json"] == {"name": "Kiran Patel", "follow_me_number": 9876500042, "intercom": 4242}
    upstream = {a["name"]: a for a in smartflo.state.list_agents()} if hasattr(smartflo.state, "list_agents") else None
    agent.refresh_from_db()
    assert agent.smartflo_id
    assert agent.follow_me_number == "+919876500042"
    assert agent.intercom == "4242"
    assert agent.is_active and agent.last_synced_at is not None
    if upstream is not None:
        assert str(upstream["Kiran Patel"]["id"]) == agent.smartflo_id


def test_create_with_a_login_puts_the_user_in_the_agents_group(smartflo):
    agent = agent_create(
        name="Kiran Patel", follow_me_number="9876500042", username="kiran", password="a-long-passphrase"
    )
    assert agent.user.username == "kiran"
    assert list(agent.user.groups.values_list("name", flat=True)) == ["Agents"]
    assert agent.user.check_password("a-long-passphrase")


def test_refusal_shows_smartflos_message_and_leaves_no_row(smartflo):
    smartflo.add_fault(endpoint="agent", status=400)
    with pytest.raises(ApplicationError) as info:
        agent_create(name="Kiran", follow_me_number="9876500042", username="kiran", password="a-long-passphrase")
    assert info.value.code == "provider_rejected"
    assert info.value.status_code == 502
    assert Agent.objects.count() == 0
    assert not User.objects.filter(username="kiran").exists()


def test_refusal_by_smartflo_validation_carries_its_message(smartflo):
    # The sandbox already has intercom 1001 (a seeded agent) that the local table does not know.
    with pytest.raises(ApplicationError) as info:
        agent_create(name="Kiran", follow_me_number="9876500042", intercom="1001")
    assert info.value.code == "provider_rejected"
    assert "intercom" in info.value.message.lower()
    assert Agent.objects.count() == 0


def test_timeout_leaves_no_row_and_says_the_outcome_is_unknown(smartflo):
    smartflo.add_fault(endpoint="agent", timeout_rate=1.0)
    with pytest.raises(ApplicationError) as info:
        agent_create(name="Kiran", follow_me_number="9876500042")
    assert info.value.code == "provider_unknown_outcome"
    assert info.value.status_code == 504
    assert "unknown" in info.value.message
    assert Agent.objects.count() == 0
    assert len(smartflo.requests(path="/v1/agent")) == 1


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"name": "", "follow_me_number": "9876500042"}, "name"),
        ({"name": "   ", "follow_me_number": "9876500042"}, "name"),
        ({"name": "A", "follow_me_number": "12345"}, "follow_me_number"),
        ({"name": "A", "follow_me_number": "+14155550123"}, "follow_me_number"),
        ({"name": "A", "follow_me_number": "9876500042", "intercom": "12"}, "intercom"),
        ({"name": "A", "follow_me_number": "9876500042", "intercom": "12345"}, "intercom"),
        ({"name": "A", "follow_me_number": "9876500042", "intercom": "abcd"}, "intercom"),
        ({"name": "A", "follow_me_number": "9876500042", "username": "x"}, "password"),
        ({"name": "A", "follow_me_number": "9876500042", "username": "x", "password": "123"}, "password"),
        # what the user model refuses (the admin could never save such a user again)
        (
            {"name": "A", "follow_me_number": "9876500042", "username": "a b/c", "password": "a-long-passphrase"},
            "username",
        ),
        (
            {"name": "A", "follow_me_number": "9876500042", "username": "x y<>", "password": "a-long-passphrase"},
            "username",
        ),
        # a password with no username would be dropped without a word
        ({"name": "A", "follow_me_number": "9876500042", "password": "a-long-passphrase"}, "password"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_sent(smartflo, fields, bad_field):
    with pytest.raises(ValidationError) as info:
        agent_create(**fields)
    assert bad_field in info.value.message_dict
    assert smartflo.requests(path="/v1/agent") == []


def test_duplicate_intercom_and_number_are_refused_locally(smartflo):
    Agent.objects.create(name="Old", follow_me_number="+919876500042", intercom="4242", smartflo_id="x1")
    with pytest.raises(ValidationError) as info:
        agent_create(name="New", follow_me_number="9876500042", intercom="4242")
    assert set(info.value.message_dict) == {"follow_me_number", "intercom"}
    assert smartflo.requests(path="/v1/agent") == []


def test_sync_creates_then_a_second_run_changes_nothing(smartflo):
    first = agent_sync()
    assert (first.created, first.updated, first.deactivated) == (3, 0, 0)
    rows = list(Agent.objects.order_by("pk").values("pk", "smartflo_id", "name", "follow_me_number", "intercom"))
    assert {r["name"] for r in rows} == {"Asha Rao", "Vikram Singh", "Meera Iyer"}
    assert {r["follow_me_number"] for r in rows} == {"+919876500001", "+919876500002", "+919876500003"}

    second = agent_sync()
    assert (second.created, second.updated, second.unchanged, second.deactivated) == (0, 0, 3, 0)
    assert (
        list(Agent.objects.order_by("pk").values("pk", "smartflo_id", "name", "follow_me_number", "intercom")) == rows
    )


def test_sync_links_existing_rows_by_number_instead_of_duplicating(smartflo):
    Agent.objects.create(name="asha (typed by hand)", follow_me_number="+919876500001")
    agent_sync()
    assert Agent.objects.count() == 3
    asha = Agent.objects.get(follow_me_number="+919876500001")
    assert asha.name == "Asha Rao" and asha.smartflo_id


def test_sync_marks_vanished_agents_inactive_instead_of_deleting(smartflo):
    agent_sync()
    vikram = Agent.objects.get(name="Vikram Singh")
    smartflo.remove_agent(vikram.smartflo_id)
    result = agent_sync()
    assert result.deactivated == 1
    vikram.refresh_from_db()
    assert vikram.is_active is False
    assert Agent.objects.count() == 3


def test_sync_picks_up_blocked_status_and_counters(smartflo):
    agent_sync()
    meera = Agent.objects.get(name="Meera Iyer")
    smartflo.block_agent(meera.smartflo_id)
    result = agent_sync()
    assert result.updated == 1
    meera.refresh_from_db()
    assert meera.blocked and meera.status == "blocked"


def test_sync_when_smartflo_is_down_changes_nothing(smartflo):
    agent_sync()
    before = list(Agent.objects.values())
    smartflo.add_fault(endpoint="agents", error_rate=1.0)
    with pytest.raises(ApplicationError) as info:
        agent_sync()
    assert info.value.code == "provider_unavailable"
    assert list(Agent.objects.values()) == before


def _listing(smartflo, agents):
    """Replace the sandbox's agent list with `agents` (dicts in the documented shape)."""
    for existing in smartflo.agents():
        smartflo.remove_agent(existing["id"])
    for agent in agents:
        smartflo.add_agent(name=agent["name"], follow_me_number=agent["number"], intercom=agent.get("intercom"))
    return {a["name"]: str(a["id"]) for a in smartflo.agents()}


def test_a_new_hire_never_takes_over_a_departed_agents_row(smartflo, make_user):
    ids = _listing(smartflo, [{"name": "Old", "number": "9876500101"}])
    agent_sync()
    old = Agent.objects.get(name="Old")
    old.user = make_user("old-login", role="agent")
    old.save()
    # Old leaves; a new hire gets Old's phone number, and Old's id disappears.
    smartflo.remove_agent(ids["Old"])
    smartflo.add_agent(name="New", follow_me_number="9876500101")
    result = agent_sync()
    assert (result.created, result.deactivated) == (1, 1)
    old.refresh_from_db()
    assert old.is_active is False and old.user.username == "old-login" and old.follow_me_number is None
    new = Agent.objects.get(name="New")
    assert new.follow_me_number == "+919876500101" and new.user is None


def test_a_number_swap_converges(smartflo):
    _listing(
        smartflo,
        [
            {"name": "A", "number": "9876500201", "intercom": "2001"},
            {"name": "B", "number": "9876500202", "intercom": "2002"},
        ],
    )
    agent_sync()
    # Swap numbers and intercoms upstream (via the sandbox's state, as Smartflo's admin would).
    with smartflo.state.lock:
        upstream = {a.name: a for a in smartflo.state.agents.all()}
        upstream["A"].follow_me_number, upstream["B"].follow_me_number = (
            upstream["B"].follow_me_number,
            upstream["A"].follow_me_number,
        )
        upstream["A"].intercom, upstream["B"].intercom = upstream["B"].intercom, upstream["A"].intercom
    agent_sync()
    assert Agent.objects.get(name="A").follow_me_number == "+919876500202"
    assert Agent.objects.get(name="B").follow_me_number == "+919876500201"
    assert (Agent.objects.get(name="A").intercom, Agent.objects.get(name="B").intercom) == ("2002", "2001")
    second = agent_sync()
    assert second.updated == 0


def test_an_empty_upstream_list_does_not_deactivate_everyone(smartflo):
    agent_sync()
    _listing(smartflo, [])
    result = agent_sync()
    assert result.deactivated == 0
    assert Agent.objects.filter(is_active=True).count() == 3


def test_odd_upstream_agents_do_not_abort_the_sync():
    from contactcenter.smartflo import Agent as Upstream

    class Fake:
        def list_agents(self):
            base = {"calls_answered": 0, "calls_missed": 0, "custom_status": 0}
            return [
                Upstream.from_api({**base, "id": 1, "name": "x" * 400, "follow_me_number": "", "eid": "e" * 90}),
                Upstream.from_api({**base, "id": 2, "name": "No number", "follow_me_number": "not a phone"}),
                Upstream.from_api(
                    {**base, "id": 3, "name": "Fine", "follow_me_number": "+919876500301", "intercom": "12"}
                ),
            ]

    result = agent_sync(client=Fake())
    assert result.created == 3
    assert Agent.objects.get(smartflo_id="1").name == "x" * 150
    assert Agent.objects.get(smartflo_id="2").follow_me_number is None
    assert Agent.objects.get(smartflo_id="3").intercom is None
