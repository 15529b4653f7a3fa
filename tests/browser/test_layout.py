"""Tables read as tables in real headless Chromium: no word is broken across lines, and badges,
numbers and times stay on one line, at the widths supervisors use; the filters above them show
their choices whole; and a table wider than a phone shows, by a shadow at its edge, that it
scrolls sideways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from agents.services import agent_sync
from calls.models import OutboundCall
from otp.models import OtpChallenge, OtpState
from tests.browser.conftest import SCREENSHOTS
from tests.browser.helpers import sign_in
from tests.records.conftest import make_record

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = (390, 1280, 1600)

# Every word in a table cell whose pieces sit on more than one line ("outbo" / "und").
BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("table.grid td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
        if (rects.some(r => r.top >= rects[0].bottom)) broken.push(match[0]);
      }
    }
  }
  return broken;
}"""

# Badges, numbers and times that wrap at all ("In" / "progress", "12 Mar" / "2026, 10:42").
WRAPPED_VALUES = """() => {
  const wrapped = [];
  for (const el of document.querySelectorAll("table.grid .badge, table.grid td.num, table.grid td.nowrap")) {
    const range = document.createRange();
    range.selectNodeContents(el);
    const rects = Array.from(range.getClientRects()).filter(r => r.width > 0);
    if (rects.some(r => r.top >= rects[0].bottom)) wrapped.push(el.textContent.trim());
  }
  return wrapped;
}"""


# Selects too narrow for the option they show ("Al" for "All states"): its text against the
# select's inner width, less room for the arrow.
CLIPPED_SELECTS = """() => {
  const context = document.createElement("canvas").getContext("2d");
  return Array.from(document.querySelectorAll("main select")).filter(select => {
    const style = getComputedStyle(select);
    context.font = style.font;
    const text = select.options[select.selectedIndex] ? select.options[select.selectedIndex].text : "";
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 16;
    return context.measureText(text).width > room;
  }).map(select => select.name);
}"""


@pytest.fixture
def busy_day(smartflo, make_user):
    """A call in progress on Smartflo, placed by Asha; OTP broadcasts; synced call records."""
    agent_sync()
    from agents.models import Agent

    asha = Agent.objects.get(name="Asha Rao")
    asha.user = make_user("asha", role="agent")
    asha.save(update_fields=["user"])
    supervisor = make_user("sup", role="supervisor")
    smartflo.set_scenario("9876543210", hold=True)
    call_id = smartflo.click_to_call(agent_number="1001", destination_number="9876543210")
    smartflo.wait_for_state(call_id, "in_progress")
    OutboundCall.objects.create(
        agent=asha, requested_by=asha.user, destination="+919876543210", call_id=call_id, status="in_progress"
    )
    now = timezone.now()
    for i in range(6):
        OtpChallenge.objects.create(
            phone=f"+9198765{i:05d}",
            requested_by=supervisor,
            state=OtpState.FAILED if i % 3 == 0 else OtpState.DELIVERED,
            failure_step="call" if i % 3 == 0 else "",
            failure_message="Smartflo is unavailable (could not connect to Smartflo)" if i % 3 == 0 else "",
            code_hash="0" * 64,
            created_at=now - timedelta(minutes=i),
            expires_at=now + timedelta(minutes=5),
            delivered_at=None if i % 3 == 0 else now - timedelta(minutes=i) + timedelta(seconds=2),
        )
    for i in range(6):
        make_record(agent=asha, started_at=now - timedelta(hours=i + 1), status="missed" if i % 2 else "answered")
    return call_id


@pytest.mark.parametrize(
    ("path", "ready"),
    [
        ("/calls/live/?every=30", "#board tr[data-call-id]"),
        ("/otp/", "table.grid tr[data-state]"),
        ("/calls/records/", "#records-results tr[data-call-id]"),
        ("/calls/history/?number=9876543210", "table.grid .badge"),
    ],
    ids=["live-board", "otp-list", "call-records", "history"],
)
def test_table_cells_break_only_between_words(page, live_server, busy_day, path, ready, request):
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + path)
    expect(page.locator(ready).first).to_be_visible(timeout=10000)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"layout-{request.node.callspec.id}-{width}.png"), full_page=True)
        assert page.evaluate(BROKEN_WORDS) == [], f"words broken at {width} px"
        assert page.evaluate(WRAPPED_VALUES) == [], f"values wrapped at {width} px"
        assert page.evaluate(CLIPPED_SELECTS) == [], f"selects too narrow for their choice at {width} px"


# Each table's scroll box (the table itself once it is a block, else its `.table-scroll`
# wrapper): whether it is wider inside than out, and whether it carries the scroll shadows
# (gradients, the covers moving with the content).
SCROLL_BOXES = """() => Array.from(document.querySelectorAll("main table.grid")).map(table => {
  const boxes = [table, table.closest(".table-scroll")].filter(Boolean);
  const box = boxes.find(el => el.scrollWidth > el.clientWidth) || boxes[boxes.length - 1];
  const style = getComputedStyle(box);
  return {
    table: table.closest("section").querySelector("h1, h2, .records-count").textContent.trim(),
    overflows: box.scrollWidth > box.clientWidth,
    hinted: style.backgroundImage.includes("gradient") && style.backgroundAttachment.startsWith("local"),
  };
})"""


@pytest.fixture
def missed_calls(busy_day):
    """Asha's Missed list: a customer who called in and one who did not pick up her call."""
    from agents.models import Agent

    asha = Agent.objects.get(name="Asha Rao")
    make_record(agent=asha, direction="inbound", status="missed", client_number="+919812345678")
    OutboundCall.objects.create(
        agent=asha, requested_by=asha.user, destination="+919822334455", call_id="missed-1", status="missed"
    )


# The pages whose tables are wider than a phone, with the fixtures' data, and who sees each.
TABLE_PAGES = pytest.mark.parametrize(
    ("user", "path", "ready"),
    [
        ("sup", "/calls/records/", "#records-results tr[data-call-id]"),
        ("sup", "/agents/", "table.grid .badge"),
        ("asha", "/calls/", "#lists table.grid >> nth=1"),  # Missed calls, then Today
    ],
    ids=["call-records", "agents", "workspace"],
)


@TABLE_PAGES
def test_tables_wider_than_a_phone_show_scroll_shadows(page, live_server, missed_calls, user, path, ready):
    sign_in(page, live_server, user)
    page.set_viewport_size({"width": 390, "height": 900})
    page.goto(live_server.url + path)
    expect(page.locator(ready).last).to_be_visible(timeout=10000)
    boxes = page.evaluate(SCROLL_BOXES)
    assert boxes, "no table on the page"
    assert [box for box in boxes if not box["overflows"]] == [], "a table fits a phone: it no longer tests the shadows"
    assert [box for box in boxes if not box["hinted"]] == [], "a table scrolls sideways without a shadow"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "the page itself scrolls sideways"


@TABLE_PAGES
def test_tables_fit_a_desktop_without_scrolling(page, live_server, missed_calls, user, path, ready):
    sign_in(page, live_server, user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + path)
    expect(page.locator(ready).last).to_be_visible(timeout=10000)
    assert [box for box in page.evaluate(SCROLL_BOXES) if box["overflows"]] == [], "a table scrolls at 1280 px"
