"""Shared fixtures. The Smartflo sandbox fixtures (`sandbox_server`, `sandbox`) come from the
sandbox's own pytest plugin; tests talk to it over real HTTP on a loopback port."""

from __future__ import annotations

import pytest

from contactcenter.smartflo import SmartfloClient
from tests.needs import REQUIRE_SERVICES, skip_or_fail  # noqa: F401 (used by other test modules)

# The sandbox's fixtures, real Celery workers (`redis_url`, `real_broker`), and the log audit
# (tests/log_audit.py: the run fails if a log line carries a phone number, a secret or an OTP code).
pytest_plugins = ["sandbox.pytest_plugin", "tests.workers", "tests.log_audit"]


class SleepRecorder:
    """Stands in for time.sleep in retry tests: records the waits, never waits."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def smartflo_client(sandbox, sleeps) -> SmartfloClient:
    """A client pointed at the sandbox, with a short timeout and a recording sleep."""
    with SmartfloClient(
        base_url=sandbox.base_url, token=sandbox.token, timeout=1.0, sleep=sleeps, random_fn=lambda: 1.0
    ) as smartflo:
        yield smartflo


@pytest.fixture
def smartflo(settings, sandbox):
    """Point the application (settings) at the sandbox, with a short provider timeout."""
    settings.SMARTFLO_BASE_URL = sandbox.base_url
    settings.SMARTFLO_API_TOKEN = sandbox.token
    settings.SMARTFLO_TIMEOUT = 1.0
    settings.SMARTFLO_BACKOFF_SECONDS = 0.001
    return sandbox


@pytest.fixture
def make_user(db):
    """make_user("name", role="agent" | "supervisor" | "superuser" | None)."""
    from django.contrib.auth.models import Group, User

    def make(username: str, *, role: str | None = None, password: str = "a-long-passphrase") -> User:
        if role == "superuser":
            return User.objects.create_superuser(username, password=password)
        user = User.objects.create_user(username, password=password)
        if role in ("agent", "supervisor"):
            # get_or_create: transactional tests flush the groups the migration made
            name = {"agent": "Agents", "supervisor": "Supervisors"}[role]
            user.groups.add(Group.objects.get_or_create(name=name)[0])
        return user

    return make


def login(user):
    """A test client signed in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sandbox_agents(smartflo, db):
    """The sandbox's three agents, synced into the local table: {"asha", "vikram", "meera"}."""
    from agents.models import Agent
    from agents.services import agent_sync

    agent_sync()
    return {a.name.split()[0].lower(): a for a in Agent.objects.all()}


def _linked(agent, make_user, username: str):
    agent.user = make_user(username, role="agent")
    agent.save(update_fields=["user"])
    return agent


@pytest.fixture
def asha(sandbox_agents, make_user):
    """Asha Rao (intercom 1001), with a sign-in `asha` linked to her agent."""
    return _linked(sandbox_agents["asha"], make_user, "asha")


@pytest.fixture
def vikram(sandbox_agents, make_user):
    """Vikram Singh (intercom 1002), with a sign-in `vikram` linked to his agent."""
    return _linked(sandbox_agents["vikram"], make_user, "vikram")


@pytest.fixture
def supervisor(make_user):
    """A supervisor sign-in, `sup`."""
    return make_user("sup", role="supervisor")


@pytest.fixture
def supervisor_client(supervisor):
    return login(supervisor)
