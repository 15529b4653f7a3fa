"""Pytest fixtures: a fast sandbox server shared by the session, reset for every test.

Load with `pytest_plugins = ["sandbox.pytest_plugin"]` (or `-p sandbox.pytest_plugin`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.server import SandboxServer

FAST = {"ring_seconds": 0.05, "talk_seconds": 0.3, "hang_seconds": 3.0, "dialplan_timeout": 1.0}


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One started SandboxServer for the session, with short rings and talks."""
    server = SandboxServer(**FAST).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """The session's sandbox, reset to its initial state before (and after) the test."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()
