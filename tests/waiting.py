"""One way for tests to wait for something another thread or process does."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def wait_until(probe: Callable[[], T], timeout: float = 5.0, *, what: str = "", interval: float = 0.02) -> T:
    """Poll `probe` until it returns something truthy, and return that; at the deadline fail the
    test, naming `what` (or the last value)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what or 'the condition'} (last value: {value!r})")
        time.sleep(interval)
