from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import login


@pytest.fixture
def asha_client(asha) -> Client:
    return login(asha.user)


@pytest.fixture
def vikram_client(vikram) -> Client:
    return login(vikram.user)


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
