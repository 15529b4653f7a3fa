from __future__ import annotations

import pytest
from django.test import Client

from agents.models import Agent
from agents.services import agent_sync


@pytest.fixture
def agents(smartflo, db):
    """The sandbox's three agents, synced into the local table."""
    agent_sync()
    return {a.name.split()[0].lower(): a for a in Agent.objects.all()}


@pytest.fixture
def asha(agents, make_user) -> Agent:
    """Asha Rao, with a sign-in linked to her agent."""
    agent = agents["asha"]
    agent.user = make_user("asha", role="agent")
    agent.save(update_fields=["user"])
    return agent


@pytest.fixture
def vikram(agents, make_user) -> Agent:
    agent = agents["vikram"]
    agent.user = make_user("vikram", role="agent")
    agent.save(update_fields=["user"])
    return agent


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def asha_client(asha) -> Client:
    return login(asha.user)


@pytest.fixture
def vikram_client(vikram) -> Client:
    return login(vikram.user)


@pytest.fixture
def supervisor_client(make_user) -> Client:
    return login(make_user("sup", role="supervisor"))


def replay_events(sandbox, call_id: str, *, count: int) -> list[dict]:
    """The sandbox's webhook payloads for a call (as Smartflo would send them), once `count` exist."""
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        events = sandbox.events(call_id=call_id)
        if len(events) >= count:
            return events
        time.sleep(0.02)
    raise AssertionError(f"sandbox produced {len(sandbox.events(call_id=call_id))} events, wanted {count}")
