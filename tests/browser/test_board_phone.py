"""The supervisor's Live calls board on a phone and a small tablet: each call is a block with its
actions on screen (its table used to scroll sideways, with the actions a swipe away and every
refresh throwing the supervisor back to the first column), through refreshes and the answers of
its actions."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, open_page
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 700, "height": 1000}  # a small tablet: the widest screen on which the board stacks


@pytest.fixture
def phone(browser, request):
    with open_page(browser, request, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2) as page:
        yield page


def assert_actions_on_screen(row) -> None:
    for name in ("Hang up", "Transfer", "Monitor", "Whisper", "Barge"):
        box = row.locator(f"td.actions button:has-text('{name}')").bounding_box()
        assert box is not None, name
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{name} is off-screen: {box}"


def wait_for_swap(page, trigger, *, method: str) -> None:
    """Run `trigger`, then wait for its answer from the board's URLs and for the board to be
    replaced (the old row detached) and settled."""
    old_row = page.locator("#board tr[data-call-id]").element_handle()
    with page.expect_response(lambda r: "/calls/live/" in r.url and r.request.method == method, timeout=15000):
        trigger()
    page.wait_for_function(
        "(old) => !old.isConnected && !document.querySelector('#board.htmx-settling, #board .htmx-settling')",
        arg=old_row,
        timeout=5000,
    )
    page.wait_for_timeout(100)  # past htmx's settle delay, and any restore done after it


def test_a_small_tablets_board_keeps_every_action_on_screen_across_refreshes_and_actions(
    phone, live_server, smartflo, team
):
    page = phone
    smartflo.set_scenario("9876543213", hold=True)
    call_id = smartflo.click_to_call(agent_number="1001", destination_number="9876543213")
    smartflo.wait_for_state(call_id, "in_progress")
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/live/?every=2")
    row = page.locator(f"tr[data-call-id='{call_id}']")
    expect(row).to_contain_text("Asha Rao", timeout=10000)

    def fits() -> None:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"
        assert page.evaluate("(() => { const t = document.querySelector('#board table'); "
                             "return t.scrollWidth <= t.clientWidth; })()"), "the board scrolls sideways"  # fmt: skip
        assert_actions_on_screen(row)

    fits()
    for _ in range(2):  # refreshes (every 2 s) replace the board
        wait_for_swap(page, lambda: None, method="GET")
        fits()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "live-board-tablet-after-refresh.png"))

    # An action's answer (a re-rendered board, posted back into #board): a refused one (this
    # supervisor has no Smartflo agent to ring for Monitor) ...
    wait_for_swap(page, lambda: row.locator("button:has-text('Monitor')").click(), method="POST")
    expect(page.locator("#board-notice .error")).to_contain_text("not linked to a Smartflo agent")
    fits()

    # ... and a transfer, chosen while refreshes pause.
    row.locator("select[name=agent]").select_option(label="Vikram Singh")
    wait_for_swap(page, lambda: row.locator("button:has-text('Transfer')").click(), method="POST")
    expect(page.locator("#board-notice .notice")).to_contain_text("Transferred to Vikram Singh.")
    expect(row.locator("td[data-label=Agent]")).to_have_text("Vikram Singh")
    fits()
    wait_for_swap(page, lambda: None, method="GET")  # and refreshes resume
    fits()
    assert page.console_errors == []
