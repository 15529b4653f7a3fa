"""Shared fixtures. The Smartflo sandbox fixtures (`sandbox_server`, `sandbox`) come from the
sandbox's own pytest plugin; tests talk to it over real HTTP on a loopback port."""

from __future__ import annotations

import os

import pytest

from contactcenter.smartflo import SmartfloClient

pytest_plugins = ["sandbox.pytest_plugin"]

#: In CI every service a test needs is there; a missing one is a failure, not a skip.
REQUIRE_SERVICES = os.environ.get("CI_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(reason + " (CI_REQUIRE_SERVICES=1: this must run here)")
    pytest.skip(reason)


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
def client(sandbox, sleeps) -> SmartfloClient:
    """A client pointed at the sandbox, with a short timeout and a recording sleep."""
    with SmartfloClient(
        base_url=sandbox.base_url, token=sandbox.token, timeout=1.0, sleep=sleeps, random_fn=lambda: 1.0
    ) as smartflo:
        yield smartflo
