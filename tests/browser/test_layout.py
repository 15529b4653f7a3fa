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


# Controls of the live board beyond the screen's right edge, or overlapping each other.
OFF_SCREEN_ACTIONS = """() => {
  const controls = Array.from(document.querySelectorAll("#board td.actions button, #board td.actions select"));
  const boxes = controls.map(el => el.getBoundingClientRect());
  const off = controls.filter((el, i) => boxes[i].left < 0 || boxes[i].right > innerWidth)
    .map(el => el.textContent.trim());
  const overlapping = boxes.some((a, i) => boxes.some((b, j) => j > i &&
    a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));
  return {count: controls.length, off, overlapping};
}"""


@pytest.mark.parametrize("width", [390, 700])
def test_the_live_board_keeps_every_action_on_a_phones_screen(page, live_server, busy_day, width):
    sign_in(page, live_server, "sup")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + "/calls/live/?every=30")
    row = page.locator("#board tr[data-call-id]").first
    expect(row).to_be_visible(timeout=10000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"layout-live-board-stacked-{width}.png"), full_page=True)
    actions = page.evaluate(OFF_SCREEN_ACTIONS)
    assert actions["count"] >= 4 and actions["off"] == [] and not actions["overlapping"], actions
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "the page scrolls sideways"
    label = row.locator("td[data-label=Customer]").evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Customer: "'  # each value says what it is
    page.set_viewport_size({"width": 1280, "height": 900})  # a desktop keeps the table, headings and all
    expect(page.locator("#board thead")).to_be_visible()
    assert page.evaluate(OFF_SCREEN_ACTIONS)["off"] == []


# Inputs too narrow for their placeholder ("Name, number or interc"): as for selects.
CLIPPED_PLACEHOLDERS = """() => {
  const context = document.createElement("canvas").getContext("2d");
  return Array.from(document.querySelectorAll("main input[placeholder]")).filter(input => {
    const style = getComputedStyle(input);
    context.font = style.font;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return context.measureText(input.placeholder).width > room;
  }).map(input => input.placeholder);
}"""


@pytest.mark.parametrize("path", ["/agents/", "/otp/"], ids=["agents", "otp"])
def test_search_boxes_show_their_whole_placeholder(page, live_server, busy_day, path):
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + path)
    expect(page.locator("main input[placeholder]").first).to_be_visible()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate(CLIPPED_PLACEHOLDERS) == [], f"placeholder cut at {width} px"


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


# The pages whose tables are wider than a phone, with the fixtures' data, and who sees each. (The
# workspace's lists and the live board stack their rows on a phone instead: see below.)
TABLE_PAGE_CASES = [
    ("sup", "/calls/records/", "#records-results tr[data-call-id]"),
    ("sup", "/agents/", "table.grid .badge"),
    ("asha", "/calls/", "#lists table.grid >> nth=1"),  # Missed calls, then Today
]
TABLE_PAGES = pytest.mark.parametrize(
    ("user", "path", "ready"), TABLE_PAGE_CASES, ids=["call-records", "agents", "workspace"]
)


@pytest.mark.parametrize(("user", "path", "ready"), TABLE_PAGE_CASES[:2], ids=["call-records", "agents"])
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


# Each row's buttons (Call back, Add/Edit note) and links, against the screen's edges.
ROW_CONTROLS_OFF_SCREEN = """() => Array.from(document.querySelectorAll("#lists table.grid tbody :is(button, a)"))
  .filter(el => { const r = el.getBoundingClientRect(); return r.left < 0 || r.right > innerWidth; })
  .map(el => el.textContent.trim())"""


def test_the_agents_lists_stack_their_rows_on_a_phone_with_every_button_on_screen(
    page, live_server, missed_calls, noted_day, request
):
    sign_in(page, live_server, "asha")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/calls/")
    expect(page.locator("#lists table.grid").nth(1)).to_be_visible(timeout=10000)
    page.screenshot(path=str(SCREENSHOTS / "workspace-lists-390.png"), full_page=True)
    assert page.locator("#lists button:has-text('Call back')").count() >= 2
    assert page.locator("#lists button:text-matches('(Add|Edit) note')").count() >= 8
    assert page.evaluate(ROW_CONTROLS_OFF_SCREEN) == []
    assert [box for box in page.evaluate(SCROLL_BOXES) if box["overflows"]] == [], "a list scrolls sideways"
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "the page itself scrolls sideways"
    assert set(page.evaluate(BROKEN_WORDS)) <= {LONG_URL}
    assert page.evaluate(WRAPPED_VALUES) == []
    labels = page.locator("#lists td[data-label=Note]").first.evaluate("td => getComputedStyle(td, '::before').content")
    assert labels == '"Note: "'


# Where the panel is: {top, bottom} in the viewport's coordinates.
PANEL_BOX = "() => { const r = document.getElementById('panel').getBoundingClientRect(); return [r.top, r.bottom]; }"


@pytest.mark.parametrize("width", [390, 1280])
def test_a_lists_button_brings_the_panel_it_fills_into_view(page, live_server, missed_calls, noted_day, width):
    """Add note / Edit note / Call back fill the panel at the top of the page: the page goes there
    (it stayed at the lists, or jumped further down, with nothing to show that anything happened)."""
    sign_in(page, live_server, "asha")
    page.set_viewport_size({"width": width, "height": 500})
    page.goto(live_server.url + "/calls/")
    for button in ("#lists button.wrap-up-open >> nth=-1", "#lists button:has-text('Call back') >> nth=-1"):
        page.locator(button).evaluate("el => el.scrollIntoView({block: 'end'})")
        assert page.evaluate(PANEL_BOX)[0] < 0  # the premise: the panel's top is above the screen
        with page.expect_response(lambda r: "/calls/" in r.url and r.request.method in ("GET", "POST")):
            page.locator(button).click()
        page.wait_for_timeout(600)  # the lists refresh after it (call-ended)
        top, _ = page.evaluate(PANEL_BOX)
        assert -1 <= top < 250, f"{button}: the panel's top is at {top:.0f} px at {width} px wide"


@TABLE_PAGES
def test_tables_fit_a_desktop_without_scrolling(page, live_server, missed_calls, user, path, ready):
    sign_in(page, live_server, user)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + path)
    expect(page.locator(ready).last).to_be_visible(timeout=10000)
    assert [box for box in page.evaluate(SCROLL_BOXES) if box["overflows"]] == [], "a table scrolls at 1280 px"


# --- Notes, long values and the boxes fixed over the page ------------------------------------

# A note that is one 60-character token (Today shows 60 characters whole), and notes in words.
LONG_URL = "https://pay.example.com/r/MJQXGZJTGNQWKZLMNRXXEZLTMVZXI4TFNZ"
NOTES = (
    LONG_URL,
    "Wants a refund for the March invoice; promised a call back on Monday after checking with billing.",
    "",
    "Asked about plan B and the family add-on; sending the brochure by email.",
)


@pytest.fixture
def noted_day(busy_day):
    """Asha's Today and the customer's History with notes (one a long URL), inbound calls among
    them, and enough rows that the page scrolls."""
    from agents.models import Agent
    from calls.models import Disposition, RingingAlert

    asha = Agent.objects.get(name="Asha Rao")
    interested = Disposition.objects.get_or_create(label="Interested")[0]
    now = timezone.now()
    for i in range(8):
        note = NOTES[i % len(NOTES)]
        call = OutboundCall.objects.create(
            agent=asha, requested_by=asha.user, destination="+919876543210", call_id=f"noted-{i}", status="completed",
            note=note, disposition=interested if note else None,
        )  # fmt: skip
        OutboundCall.objects.filter(pk=call.pk).update(requested_at=now - timedelta(minutes=10 + i))
    RingingAlert.objects.create(
        agent=asha, call_id="in-noted", caller_number="+919876543210", direction="inbound",
        cleared_at=now - timedelta(minutes=5), cleared_reason="answered", answered_at=now - timedelta(minutes=5),
        ended_at=now - timedelta(minutes=4), note=NOTES[1], disposition=interested,
    )  # fmt: skip
    return asha


def on_a_call(asha, *, ringing: bool = False) -> None:
    """Asha is on an inbound call (the "On a call" box on her pages); `ringing`: another rings."""
    from calls.models import RingingAlert

    now = timezone.now()
    RingingAlert.objects.create(
        agent=asha, call_id="in-live", caller_number="+919812345603", direction="inbound",
        cleared_at=now, cleared_reason="answered", answered_at=now,
    )  # fmt: skip
    if ringing:
        RingingAlert.objects.create(
            agent=asha, call_id="in-ringing", caller_number="+919812345601", direction="inbound"
        )


# The note cells (the column headed "Note") of the table headed `heading`, and the Add/Edit note
# buttons of its rows: their boxes, and where the table's visible box ends.
NOTE_CELLS = """(heading) => {
  const section = Array.from(document.querySelectorAll("main section"))
    .find(s => s.querySelector("h1, h2").textContent.trim().startsWith(heading));
  const table = section.querySelector("table.grid");
  const column = Array.from(table.querySelectorAll("thead th")).findIndex(th => th.textContent.trim() === "Note");
  const box = el => { const r = el.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
  const inner = section.getBoundingClientRect();
  const padding = parseFloat(getComputedStyle(section).paddingRight);
  return {
    notes: Array.from(table.querySelectorAll("tbody tr")).map(row => box(row.children[column])),
    buttons: Array.from(table.querySelectorAll("tbody button")).map(box),
    table: box(table),
    card: {left: inner.left, right: inner.right - padding},
    scrollWidth: table.scrollWidth,
  };
}"""

NOTE_PAGES = pytest.mark.parametrize(
    ("path", "heading"),
    [("/calls/", "Today"), ("/calls/history/?number=9876543210", "Calls with")],
    ids=["today", "history"],
)


@pytest.mark.parametrize(("path", "heading"), [("/calls/history/?number=9876543210", "Calls with")], ids=["history"])
def test_notes_wrap_on_a_phone(page, live_server, noted_day, path, heading, request):
    """At 390 px a note is neither one long line nor one word a line. (Today stacks its rows on a
    phone: `test_the_agents_lists_stack_their_rows_on_a_phone_with_every_button_on_screen`.)"""
    sign_in(page, live_server, "asha")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + path)
    expect(page.locator("main table.grid .badge").first).to_be_visible(timeout=10000)
    cells = page.evaluate(NOTE_CELLS, heading)
    table = page.locator(f"main section:has(:is(h1, h2):text-matches('^{heading}')) table.grid")
    table.evaluate("table => { table.scrollLeft = table.scrollWidth; }")  # its last columns, for the eye
    table.screenshot(path=str(SCREENSHOTS / f"notes-{request.node.callspec.id}-390.png"))
    widths = [round(cell["width"]) for cell in cells["notes"]]
    assert max(widths) <= 240, f"a note cell runs wide instead of wrapping: {widths}"
    assert min(widths) >= 140, f"a note squeezed to a word a line: {widths}"
    # Only the link, a single 60-character token, may be split across lines (and "add-on" after its hyphen).
    assert {word for word in page.evaluate(BROKEN_WORDS) if "-" not in word} <= {LONG_URL}
    assert page.evaluate(WRAPPED_VALUES) == []
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "the page itself scrolls sideways"


@NOTE_PAGES
@pytest.mark.parametrize("width", [1280, 1600])
def test_a_long_unbroken_note_wraps_inside_its_card(page, live_server, noted_day, path, heading, width):
    sign_in(page, live_server, "asha")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + path)
    expect(page.locator("main table.grid .badge").first).to_be_visible(timeout=10000)
    cells = page.evaluate(NOTE_CELLS, heading)
    assert cells["table"]["right"] <= cells["card"]["right"] + 0.5, cells
    assert cells["scrollWidth"] <= cells["table"]["right"] - cells["table"]["left"] + 0.5, "the table scrolls"
    assert [b for b in cells["buttons"] if b["right"] > cells["card"]["right"] + 0.5] == [], "a button sticks out"
    assert set(page.evaluate(BROKEN_WORDS)) <= {LONG_URL}, "words other than the URL were split"


# The boxes that float over the page: the pop-up of a call ringing, the "On a call" box, the
# recording player.
FLOATING = ".popup, .oncall, .player:not([hidden])"

# The last row of each table with the page scrolled to its end, against each floating box: a row
# must clear every box.
COVERED_ROWS = """(floating) => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  const boxes = Array.from(document.querySelectorAll(floating)).map(el => el.getBoundingClientRect());
  const covered = [];
  for (const table of document.querySelectorAll("main table.grid")) {
    const row = table.querySelector("tbody tr:last-child").getBoundingClientRect();
    for (const box of boxes) {
      if (row.bottom > box.top && row.top < box.bottom && row.right > box.left && row.left < box.right)
        covered.push({row: [row.top, row.bottom], box: [box.top, box.bottom]});
    }
  }
  return {boxes: boxes.length, covered};
}"""

# The header's controls (links, Sign out) and the headings at the top of the page ("Dial",
# "Current call") under a floating box, the page scrolled to its top. (A box at the bottom of
# the screen may float over what is there: COVERED_ROWS shows it can be scrolled clear.)
COVERED_CONTROLS = """(floating) => {
  window.scrollTo(0, 0);
  const boxes = Array.from(document.querySelectorAll(floating)).map(el => el.getBoundingClientRect());
  const headings = Array.from(document.querySelectorAll("main h1, main h2"))
    .filter(h => h.getBoundingClientRect().top < 300);
  return Array.from(document.querySelectorAll(".topbar a, .topbar button")).concat(headings).filter(el => {
    const r = el.getBoundingClientRect();
    return boxes.some(box => r.bottom > box.top && r.top < box.bottom && r.right > box.left && r.left < box.right);
  }).map(el => el.textContent.trim());
}"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("ringing", [False, True], ids=["on-a-call", "on-a-call-and-ringing"])
@pytest.mark.parametrize(
    "path", ["/calls/", "/calls/history/?number=9876543210"], ids=["workspace", "history"]
)  # History ends with its table; the workspace with Today, then Recent customers
def test_nothing_stays_hidden_under_the_call_boxes(page, live_server, noted_day, path, width, ringing, request):
    on_a_call(noted_day, ringing=ringing)
    sign_in(page, live_server, "asha")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + path)
    expect(page.locator(".oncall")).to_be_visible(timeout=10000)
    expect(page.locator(".popup")).to_have_count(1 if ringing else 0)
    result = page.evaluate(COVERED_ROWS, FLOATING)
    page.screenshot(path=str(SCREENSHOTS / f"call-boxes-{request.node.callspec.id}.png"))
    assert result["boxes"] == (2 if ringing else 1)
    assert result["covered"] == [], "a table's last row stays under a call box at the end of the page"
    assert page.evaluate(COVERED_CONTROLS, FLOATING) == [], "a call box covers the header or a heading at the top"
    page.screenshot(path=str(SCREENSHOTS / f"call-boxes-{request.node.callspec.id}-top.png"))


def test_on_a_phone_the_on_a_call_boxes_make_way_for_the_note_being_typed(page, live_server, noted_day):
    from calls.models import RingingAlert

    on_a_call(noted_day, ringing=True)  # two boxes: "On a call" and a call ringing
    sign_in(page, live_server, "asha")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + f"/calls/?inbound={RingingAlert.objects.get(call_id='in-live').pk}")  # Write a note
    expect(page.locator(".popup")).to_have_count(1, timeout=10000)
    expect(page.locator(".oncall")).to_have_count(1)  # hidden already: "Write a note" puts the cursor in the note
    note = page.locator("#wrap-note")
    note.click()
    page.keyboard.type("asked about plan B")
    page.set_viewport_size({"width": 390, "height": 420})  # the on-screen keyboard takes the rest
    note.scroll_into_view_if_needed()
    page.wait_for_timeout(100)
    covering = """(floating) => {
      const field = document.getElementById("wrap-note").getBoundingClientRect();
      return Array.from(document.querySelectorAll(floating)).map(el => el.getBoundingClientRect())
        .filter(box => box.height > 0 && field.bottom > box.top && field.top < box.bottom).length;
    }"""
    page.screenshot(path=str(SCREENSHOTS / "call-boxes-typing-390.png"))
    assert page.evaluate(covering, ".oncall") == 0, "an On a call box covers the note being typed"
    expect(page.locator(".oncall")).to_be_hidden()
    popup = page.locator(".popup").bounding_box()  # the call ringing still floats on screen
    assert popup is not None and 0 <= popup["y"] and popup["y"] + popup["height"] <= 420
    note.blur()
    expect(page.locator(".oncall")).to_be_visible()


@pytest.mark.parametrize("width", [390, 1280])
def test_the_recording_player_leaves_the_last_row_visible(page, live_server, busy_day, width, request):
    sign_in(page, live_server, "sup")
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + "/calls/records/")
    expect(page.locator("#records-results tr[data-call-id]").first).to_be_visible(timeout=10000)
    page.evaluate("document.getElementById('player-label').textContent = '26 Nov, 00:55 · +919488031594'")
    page.evaluate("document.getElementById('player').hidden = false")  # as a Play button shows it
    result = page.evaluate(COVERED_ROWS, FLOATING)
    page.screenshot(path=str(SCREENSHOTS / f"player-{request.node.callspec.id}.png"))
    assert result["boxes"] == 1
    assert result["covered"] == [], "the last record stays under the player"
    box = page.locator("#player").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"the player runs off the screen: {box}"
    expect(page.locator("#player-close")).to_be_in_viewport(ratio=1)


def test_call_buttons_look_the_same_on_calls_and_history(page, live_server, busy_day):
    sign_in(page, live_server, "asha")
    style = "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.borderColor, s.color]; }"
    page.goto(live_server.url + "/calls/")
    on_calls = page.locator("#dial button.call").evaluate(style)
    page.goto(live_server.url + "/calls/history/?number=9876543210")
    on_history = page.locator("main .toolbar a:has-text('Call')").evaluate(style)
    assert on_history == on_calls == ["rgb(18, 128, 92)", "rgb(18, 128, 92)", "rgb(255, 255, 255)"]
