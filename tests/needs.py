"""Tests that need an outside service (Redis, PostgreSQL, Chromium) skip locally when it is
absent, with a reason that says how to enable them; in CI (CI_REQUIRE_SERVICES=1) they fail."""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("CI_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(reason + " (CI_REQUIRE_SERVICES=1: this must run here)")
    pytest.skip(reason)
