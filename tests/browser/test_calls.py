"""Agents and supervisors work calls in real headless Chromium against the sandbox."""

from __future__ import annotations

import json
import urllib.request

import pytest
from playwright.sync_api import expect

from calls.models import OutboundCall, RingingAlert
from tests.browser.conftest import SCREENSHOTS, WEBHOOK_TOKEN
from tests.browser.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_dials_watches_transfers_and_saves_a_note(page, live_server, smartflo, team):
    smartflo.set_scenario("9876543210", hold=True)
    sign_in(page, live_server, "asha")
    page.click("nav >> text=Calls")
    page.fill("#id_destination_number", "098765-43210")
    page.click("button.call")

    status = page.locator("#call-status")
    expect(status).to_have_text("In progress", timeout=10000)  # followed live, no reload
    call = OutboundCall.objects.get()
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1

    # A mistyped number while on the call: said beside the dial box; the call stays on screen.
    page.fill("#id_destination_number", "12345")
    page.click("button.call")
    expect(page.locator("#dial-error")).to_contain_text("10-digit")
    expect(status).to_have_text("In progress")
    expect(page.locator("#hangup")).to_be_visible()

    page.select_option("select[name=agent]", label="Vikram Singh (1002)")
    page.click("#transfer")
    expect(page.locator(".call-panel")).to_contain_text("Transferred to Vikram Singh", timeout=10000)
    (live,) = [c for c in smartflo.live_calls() if c["call_id"] == call.call_id]
    assert live["agent_name"] == "Vikram Singh"
    # The call goes on with Vikram: it is no longer hers to hang up; she writes her note.
    expect(status).to_have_text("Transferred")
    expect(page.locator("#hangup")).to_have_count(0)
    expect(page.locator("#lists .chips")).to_contain_text("+919876543210")  # the lists follow, no reload
    page.select_option("#wrap-disposition", label="Interested")
    page.fill("#wrap-note", "Wants the premium plan; call Tuesday.")
    page.click("#save-note")
    expect(page.locator(".call-panel .saved")).to_be_visible()
    call.refresh_from_db()
    assert call.note == "Wants the premium plan; call Tuesday."
    assert call.disposition.label == "Interested"
    assert [c["agent_name"] for c in smartflo.live_calls()] == ["Vikram Singh"]  # still on, with him
    smartflo.hangup(call.call_id)

    # Later (the panel is gone after a reload), the Today row brings the wrap-up form back.
    page.reload()
    expect(page.locator("#panel")).to_contain_text("No call in progress")
    page.click(f"button.wrap-up-open[data-call='{call.pk}']")
    expect(page.locator("#wrap-note")).to_have_value("Wants the premium plan; call Tuesday.")
    page.fill("#wrap-note", "Wants the premium plan; call Wednesday instead.")
    with page.expect_response(lambda r: r.url.endswith(f"/calls/{call.pk}/wrap-up/")):  # "Saved." shows already
        page.click("#save-note")
    call.refresh_from_db()
    assert call.note == "Wants the premium plan; call Wednesday instead."
    assert page.console_errors == []


def test_bad_number_shows_an_error_and_dials_nothing(page, live_server, smartflo, team):
    sign_in(page, live_server, "asha")
    page.goto(live_server.url + "/calls/")
    page.fill("#id_destination_number", "12345")
    page.click("button.call")
    expect(page.locator("#dial-error")).to_contain_text("10-digit")
    expect(page.locator("#panel")).to_contain_text("No call in progress")
    assert smartflo.requests(path="/v1/click_to_call") == []
    page.fill("#id_destination_number", "9876543210")  # a good number clears the message
    page.click("button.call")
    expect(page.locator("#dial-error")).to_be_empty()


def test_supervisor_sees_the_live_call_and_hangs_it_up(page, live_server, smartflo, team):
    smartflo.set_scenario("9876543211", hold=True)
    call_id = smartflo.click_to_call(agent_number="1001", destination_number="9876543211")
    smartflo.wait_for_state(call_id, "in_progress")
    sign_in(page, live_server, "sup")
    page.click("nav >> text=Live calls")
    row = page.locator(f"tr[data-call-id='{call_id}']")
    expect(row).to_contain_text("Asha Rao", timeout=10000)
    page.once("dialog", lambda dialog: dialog.accept())  # "Hang up this call for both parties?"
    row.locator("button:has-text('Hang up')").click()
    expect(page.locator("#board-notice .notice")).to_contain_text("Hang-up sent.")
    assert not [c for c in smartflo.live_calls() if c["call_id"] == call_id]
    expect(page.locator(f"tr[data-call-id='{call_id}']")).to_have_count(0, timeout=10000)
    for _ in range(2):  # the board refreshes; the action's answer stays above it
        with page.expect_response(lambda r: "/calls/live/board/" in r.url and r.request.method == "GET", timeout=15000):
            pass
    expect(page.locator("#board-notice .notice")).to_contain_text("Hang-up sent.")


def test_board_refresh_keeps_a_transfer_choice_in_progress(page, live_server, smartflo, team):
    smartflo.set_scenario("9876543212", hold=True)
    call_id = smartflo.click_to_call(agent_number="1001", destination_number="9876543212")
    smartflo.wait_for_state(call_id, "in_progress")
    polls: list[str] = []
    page.on("request", lambda request: polls.append(request.url) if "/calls/live/board/" in request.url else None)
    sign_in(page, live_server, "sup")
    page.goto(live_server.url + "/calls/live/?every=2")
    row = page.locator(f"tr[data-call-id='{call_id}']")
    expect(row).to_contain_text("Asha Rao", timeout=10000)
    choice = row.locator("select[name=agent]")
    expect(choice.locator("option")).to_have_text(["Transfer to…", "Meera Iyer", "Vikram Singh"])  # not Asha

    choice.select_option(label="Vikram Singh")
    before = len(polls)
    page.wait_for_timeout(5000)  # two refresh intervals and more
    assert len(polls) == before, "the board refreshed over a choice in progress"
    expect(choice).to_have_value(str(team["vikram"].pk))
    expect(page.locator("#board-paused")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "live-board-paused.png"))

    choice.select_option(value="")  # the choice cleared and the control left: refreshes resume
    page.locator("h1").click()
    with page.expect_request(lambda request: "/calls/live/board/" in request.url, timeout=6000):
        pass
    expect(page.locator("#board-paused")).to_be_hidden()

    row.locator("select[name=agent]").select_option(label="Vikram Singh")
    row.locator("button:has-text('Transfer')").click()
    expect(page.locator("#board-notice .notice")).to_contain_text("Transferred to Vikram Singh.", timeout=10000)
    # The answer that carries the notice redraws the row: the new agent at once, not at a later poll.
    expect(row.locator("td").nth(3)).to_have_text("Vikram Singh", timeout=500)
    expect(row.locator("select[name=agent] option")).to_have_text(
        ["Transfer to…", "Asha Rao", "Meera Iyer"], timeout=500
    )
    assert page.console_errors == []


def post_webhook(live_server, body: dict) -> None:
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/webhooks/smartflo/?token={WEBHOOK_TOKEN}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_incoming_call_pop_up_reaches_only_the_right_agent(browser, live_server, smartflo, team):
    def agent_page(username):
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, live_server, username)
        return page

    asha_tab_1, asha_tab_2, vikram_tab = agent_page("asha"), agent_page("asha"), agent_page("vikram")
    asha_tab_2.goto(live_server.url + "/calls/")
    # A customer calls the DID and Smartflo rings Asha's phone (the sandbox sends the events).
    smartflo.set_scenario("9812345678", ring_seconds=120)
    call_id = smartflo.ring_agent(caller_id_number="9812345678", agent="1001")

    for tab in (asha_tab_1, asha_tab_2):
        expect(tab.locator(".popup")).to_contain_text("+919812345678", timeout=10000)
    vikram_tab.wait_for_timeout(3000)  # several polls
    expect(vikram_tab.locator(".popup")).to_have_count(0)

    history = asha_tab_1.locator(".popup a:has-text('History')")
    assert "number=%2B919812345678" in history.get_attribute("href")
    asha_tab_1.set_viewport_size({"width": 390, "height": 844})  # on a phone it stays on the screen
    box = asha_tab_1.locator(".popup").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    asha_tab_1.set_viewport_size({"width": 1280, "height": 720})

    smartflo.hangup(call_id)  # the caller gives up before Asha answers
    for tab in (asha_tab_1, asha_tab_2):
        expect(tab.locator(".popup")).to_have_count(0, timeout=10000)

    ring = {
        "call_id": "1700000000.000002",
        "direction": "inbound",
        "event": "agent_ringing",
        "call_status": "ringing",
        "agent_number": "+919876500001",
        "caller_id_number": "+919812345678",
    }
    post_webhook(live_server, ring)
    expect(asha_tab_2.locator(".popup")).to_have_count(1, timeout=10000)
    asha_tab_1.locator(".popup button:has-text('Dismiss')").click()
    expect(asha_tab_2.locator(".popup")).to_have_count(0, timeout=10000)  # dismissed in one tab, gone in the other
    for tab in (asha_tab_1, asha_tab_2, vikram_tab):
        tab.context.close()


def test_call_back_from_the_missed_list_shows_the_new_call(page, live_server, smartflo, team):
    """The list's buttons fill the call panel (they once inherited the list's own hx-select)."""
    from datetime import timedelta

    from django.utils import timezone

    from tests.records.conftest import make_record

    smartflo.set_scenario("9812345678", hold=True)
    make_record(agent=team["asha"], direction="inbound", status="missed", client_number="+919812345678",
                started_at=timezone.now() - timedelta(hours=1))  # fmt: skip
    sign_in(page, live_server, "asha")
    page.goto(live_server.url + "/calls/")
    page.click("text=Call back")
    expect(page.locator("#call-status")).to_have_text("In progress", timeout=10000)
    expect(page.locator("#hangup")).to_be_visible()
    assert OutboundCall.objects.get().destination == "+919812345678"
    page.click("#hangup")
    expect(page.locator("#call-status")).to_have_text("Completed", timeout=10000)
    assert page.console_errors == []


def test_an_answered_inbound_call_shows_on_the_agents_pages_until_it_ends(page, live_server, smartflo, team):
    sign_in(page, live_server, "asha")
    page.goto(live_server.url + "/calls/")
    smartflo.set_scenario("9812345678", ring_seconds=3, hold=True)  # Asha answers after 3 s; they talk
    call_id = smartflo.ring_agent(caller_id_number="9812345678", agent="1001")
    expect(page.locator(".popup")).to_contain_text("+919812345678", timeout=10000)
    expect(page.locator(".oncall")).to_contain_text("+919812345678", timeout=10000)  # answered
    expect(page.locator(".popup")).to_have_count(0)
    # On her workspace the call comes into the empty Current call panel by itself.
    expect(page.locator("#panel #call-status")).to_have_text("On the call", timeout=10000)
    page.goto(live_server.url + "/calls/records/")  # on every page she opens
    expect(page.locator(".oncall")).to_contain_text("On a call", timeout=10000)
    smartflo.hangup(call_id)
    expect(page.locator(".oncall")).to_have_count(0, timeout=10000)
    assert page.console_errors == []


def test_an_inbound_call_is_noted_during_the_call_and_lands_in_today(page, live_server, smartflo, team):
    sign_in(page, live_server, "asha")
    page.goto(live_server.url + "/calls/records/")
    smartflo.set_scenario("9812345678", ring_seconds=1, hold=True)  # Asha answers after 1 s; they talk
    call_id = smartflo.ring_agent(caller_id_number="9812345678", agent="1001")
    expect(page.locator(".oncall")).to_contain_text("+919812345678", timeout=10000)
    page.click(".oncall a.oncall-note")  # from any page, to her workspace's current-call panel
    expect(page.locator("#panel #call-status")).to_have_text("On the call", timeout=10000)
    page.select_option("#wrap-disposition", label="Interested")
    page.fill("#wrap-note", "Asked about plan B")
    smartflo.hangup(call_id)  # the call ends while she types: the state line says so, her text stays
    expect(page.locator("#panel #call-status")).to_have_text("Ended", timeout=10000)
    expect(page.locator("#wrap-note")).to_have_value("Asked about plan B")
    page.click("#save-note")
    expect(page.locator("#panel .saved")).to_be_visible(timeout=10000)
    today = page.locator("section.card", has=page.locator("h2", has_text="Today"))
    expect(today).to_contain_text("(inbound)", timeout=10000)
    expect(today).to_contain_text("Asked about plan B")
    expect(today).to_contain_text("Interested")
    page.screenshot(path=str(SCREENSHOTS / "inbound-wrap-up.png"), full_page=True)
    page.goto(live_server.url + "/calls/history/?number=9812345678")
    expect(page.locator("table.grid")).to_contain_text("Called in")
    expect(page.locator("table.grid")).to_contain_text("Asked about plan B")
    assert page.console_errors == []


def test_an_inbound_call_is_transferred_from_the_panel_and_the_colleague_gets_it(
    page, browser, live_server, smartflo, team
):
    sign_in(page, live_server, "asha")
    page.goto(live_server.url + "/calls/")
    colleague = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(colleague, live_server, "vikram")
    colleague.goto(live_server.url + "/calls/records/")
    smartflo.set_scenario("9812345678", ring_seconds=1, hold=True)
    smartflo.ring_agent(caller_id_number="9812345678", agent="1001")
    expect(page.locator(".oncall")).to_contain_text("+919812345678", timeout=10000)
    expect(page.locator("#panel #call-status")).to_have_text("On the call", timeout=10000)  # by itself
    page.fill("#wrap-note", "Wants a plan")
    page.click(".oncall .oncall-note")  # the panel already shows the call: not reloaded, the cursor goes in
    expect(page.locator("#wrap-note")).to_be_focused()
    page.keyboard.type(" for his shop")
    expect(page.locator("#wrap-note")).to_have_value("Wants a plan for his shop")
    assert page.url == live_server.url + "/calls/"
    page.select_option("#panel select[name=agent]", label="Vikram Singh (1002)")
    page.click("#panel #transfer")
    expect(page.locator("#panel #call-status")).to_have_text("Transferred", timeout=10000)
    expect(page.locator("#panel #call-state")).to_contain_text("passed to Vikram Singh")
    expect(page.locator("#wrap-note")).to_have_value("Wants a plan for his shop")  # kept as typed
    page.click("#save-note")
    expect(page.locator("#panel .saved")).to_be_visible(timeout=10000)
    expect(colleague.locator(".oncall")).to_contain_text("+919812345678", timeout=10000)  # Vikram has it now
    colleague.click(".oncall a.oncall-note")  # from another page: opens his workspace with the call
    expect(colleague.locator("#panel #call-status")).to_have_text("On the call", timeout=10000)
    colleague.click("#panel #hangup")
    expect(colleague.locator("#panel #call-status")).to_have_text("Ended", timeout=10000)
    expect(page.locator(".oncall")).to_have_count(0)
    assert page.console_errors == []


def test_on_the_workspace_an_inbound_call_shows_by_itself_and_lands_in_today_when_it_ends(
    page, live_server, smartflo, team
):
    sign_in(page, live_server, "asha")
    page.goto(live_server.url + "/calls/")
    expect(page.locator("#panel")).to_contain_text("No call in progress")
    smartflo.set_scenario("9812345678", ring_seconds=1, hold=True)
    call_id = smartflo.ring_agent(caller_id_number="9812345678", agent="1001")
    expect(page.locator("#panel #call-status")).to_have_text("On the call", timeout=10000)  # no click
    page.fill("#wrap-note", "typed while talking")
    page.wait_for_timeout(2500)  # a few polls of the pop-up area: nothing redraws the panel over the text
    expect(page.locator("#wrap-note")).to_have_value("typed while talking")
    smartflo.hangup(call_id)
    expect(page.locator("#panel #call-status")).to_have_text("Ended", timeout=10000)
    today = page.locator("section.card", has=page.locator("h2", has_text="Today"))
    expect(today).to_contain_text("(inbound)", timeout=10000)  # the lists follow, no reload
    expect(page.locator("#wrap-note")).to_have_value("typed while talking")
    assert page.console_errors == []


def test_a_note_being_typed_survives_a_reload_until_it_is_saved(page, live_server, smartflo, team):
    sign_in(page, live_server, "asha")
    page.goto(live_server.url + "/calls/")
    smartflo.set_scenario("9812345678", ring_seconds=1, hold=True)
    smartflo.ring_agent(caller_id_number="9812345678", agent="1001")
    expect(page.locator("#panel #call-status")).to_have_text("On the call", timeout=10000)
    page.fill("#wrap-note", "Half-written: customer wants")
    page.reload()
    expect(page.locator("#wrap-note")).to_have_value("Half-written: customer wants", timeout=10000)
    expect(page.locator(".draft-restored")).to_contain_text("unsaved note is back")
    page.fill("#wrap-note", "Customer wants a callback on Monday")
    with page.expect_response(lambda r: "/wrap-up/" in r.url):
        page.click("#save-note")
    page.reload()
    expect(page.locator("#wrap-note")).to_have_value("Customer wants a callback on Monday", timeout=10000)
    expect(page.locator(".draft-restored")).to_have_count(0)  # saved: nothing to bring back

    # A draft over a note saved elsewhere since (another tab, a colleague) does not replace it.
    page.fill("#wrap-note", "Draft from this tab")
    RingingAlert.objects.update(note="Saved in another tab")
    page.reload()
    expect(page.locator("#wrap-note")).to_have_value("Saved in another tab", timeout=10000)
    expect(page.locator(".draft-restored")).to_contain_text("not put back")
    expect(page.locator(".draft-restored")).to_contain_text("Draft from this tab")
    page.reload()
    expect(page.locator(".draft-restored")).to_have_count(0)  # said once, then dropped
    assert page.console_errors == []


def test_back_to_the_workspace_shows_the_call_still_on(page, live_server, smartflo, team):
    """The browser keeps no copy of a signed-in page: Back asks again and shows the call as it is
    now, not the workspace as first loaded (before the dial)."""
    smartflo.set_scenario("9876543210", hold=True)
    sign_in(page, live_server, "asha")
    page.click("nav >> text=Calls")
    page.fill("#id_destination_number", "9876543210")
    page.click("button.call")
    expect(page.locator("#call-status")).to_have_text("In progress", timeout=10000)

    page.click("nav >> text=Records")
    page.wait_for_url("**/calls/records/**")
    page.go_back()
    page.wait_for_url("**/calls/")
    expect(page.locator("#call-status")).to_have_text("In progress", timeout=10000)
    expect(page.locator("#hangup")).to_be_visible()
    smartflo.hangup(OutboundCall.objects.get().call_id)
    assert not page.console_errors


def test_an_agent_page_polls_for_calls_without_console_errors(page, live_server, team):
    """The incoming-call poll sends back what it shows (`#incoming-shown`); before its first
    answer there is nothing to send, and HTMX must not find the element missing."""
    logged = []
    page.on("console", lambda message: logged.append(message.text) if message.type == "error" else None)
    sign_in(page, live_server, "asha")
    with page.expect_response(lambda r: "/calls/alerts/" in r.url):
        page.goto(live_server.url + "/calls/")
    with page.expect_response(lambda r: "/calls/alerts/" in r.url, timeout=5000):
        pass  # the next poll, 2 s later
    assert logged == []
