"""Real headless Chromium (Debian's package) driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.needs import skip_or_fail

# Playwright's sync API runs an event loop in this thread; the ORM calls tests make between
# page actions are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
WEBHOOK_TOKEN = "test-webhook-token"  # tests/settings.py
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if not path:
        skip_or_fail("needs Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextmanager
def open_page(browser, request, **context_options):
    """A page in a browser context of its own that records its JavaScript errors
    (`page.console_errors`) and leaves a full-page screenshot named after the test."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    try:
        yield page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def page(browser, request):
    with open_page(browser, request, viewport={"width": 1280, "height": 900}) as page:
        yield page


@pytest.fixture
def team(smartflo, live_server, make_user):
    """Sandbox agents synced and linked to sign-ins (asha, vikram) and a supervisor (sup); the
    sandbox posts webhooks to the live app."""
    from agents.models import Agent
    from agents.services import agent_sync
    from calls.models import Disposition

    smartflo.configure(webhook_url=live_server.url + "/api/v1/webhooks/smartflo/", webhook_token=WEBHOOK_TOKEN)
    agent_sync()
    people = {}
    for username, name in (("asha", "Asha Rao"), ("vikram", "Vikram Singh")):
        agent = Agent.objects.get(name=name)
        agent.user = make_user(username, role="agent")
        agent.save(update_fields=["user"])
        people[username] = agent
    make_user("sup", role="supervisor")
    # transactional tests flush what data migrations made
    Disposition.objects.get_or_create(label="Interested")
    return people
