"""Inbound calls an agent answered: in their Today list and current-call panel, with a note and a
disposition written during the call or after it, and in the customer's history."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from calls.models import CallStatus, Disposition, OutboundCall, RingingAlert

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def answered(agent, *, minutes_ago: int = 10, ended: bool = True, **fields) -> RingingAlert:
    now = timezone.now()
    return RingingAlert.objects.create(
        agent=agent,
        call_id=fields.pop("call_id", f"1716000000.{minutes_ago:06d}"),
        caller_number=fields.pop("caller_number", "+919812345678"),
        direction="inbound",
        cleared_at=now - timedelta(minutes=minutes_ago),
        cleared_reason="answered",
        answered_at=now - timedelta(minutes=minutes_ago),
        ended_at=now - timedelta(minutes=minutes_ago - 2) if ended else None,
        **fields,
    )


def test_today_lists_answered_inbound_calls_with_the_placed_ones_newest_first(asha_client, asha, vikram):
    placed = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED
    )
    OutboundCall.objects.filter(pk=placed.pk).update(requested_at=timezone.now() - timedelta(minutes=6))
    mine = answered(asha, minutes_ago=5, note="wants a refund")
    answered(vikram, minutes_ago=4, caller_number="+919800000099")  # a colleague's: not hers
    RingingAlert.objects.create(agent=asha, call_id="1716000000.999999", caller_number="+919800000077")  # rang only
    old = answered(asha, minutes_ago=60 * 24 * 2, caller_number="+919800000066")  # two days ago

    html = asha_client.get("/calls/").content.decode()
    today = html[html.index("<h2>Today</h2>") : html.index("<h2>Recent customers</h2>")]
    assert '+919812345678</a> <span class="muted">(inbound)</span>' in today
    assert "wants a refund" in today and f'data-inbound="{mine.pk}"' in today and "Edit note" in today
    assert today.index("+919812345678") < today.index("+919876543210")  # the inbound call came later
    for absent in ("+919800000099", "+919800000077", old.caller_number):
        assert absent not in today


def test_the_workspace_panel_shows_the_inbound_call_she_is_on_with_its_note_form(asha_client, asha):
    call = answered(asha, minutes_ago=3, ended=False)
    html = asha_client.get("/calls/").content.decode()
    panel = html[html.index('id="panel"') : html.index("</section>", html.index('id="panel"'))]
    assert "On the call" in panel and "+919812345678" in panel
    assert f'hx-get="/calls/inbound/{call.pk}/panel/?part=state"' in panel  # the state line polls
    assert f'hx-post="/calls/inbound/{call.pk}/wrap-up/"' in panel and 'id="wrap-note"' in panel
    assert "No call in progress" not in panel


def test_a_placed_live_call_takes_the_panel_before_an_inbound_one(asha_client, asha):
    answered(asha, minutes_ago=3, ended=False)
    live = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.IN_PROGRESS
    )
    html = asha_client.get("/calls/").content.decode()
    panel = html[html.index('id="panel"') : html.index("</section>", html.index('id="panel"'))]
    assert f"/calls/{live.pk}/hangup/" in panel and "/calls/inbound/" not in panel


def test_the_state_line_polls_until_the_hang_up_then_says_ended_and_refreshes_the_lists(asha_client, asha):
    call = answered(asha, minutes_ago=3, ended=False)
    url = f"/calls/inbound/{call.pk}/panel/?part=state"
    response = asha_client.get(url, **HX)
    assert response.status_code == 204 and response.content == b""  # unchanged: nothing swapped, nothing re-read
    assert "HX-Trigger" not in response

    call.ended_at = timezone.now()
    call.save()
    response = asha_client.get(url, **HX)
    html = response.content.decode()
    assert "Ended" in html and "hx-get" not in html and "wrap-note" not in html  # the form below is left alone
    assert response["HX-Trigger"] == "call-ended"


def test_a_lost_hang_up_stops_counting_after_four_hours(asha_client, asha):
    call = answered(asha, minutes_ago=5 * 60, ended=False)
    assert not call.is_live
    html = asha_client.get("/calls/").content.decode()
    assert "No call in progress" in html and "On the call" not in html
    assert 'class="oncall"' not in asha_client.get("/calls/alerts/").content.decode()


def test_the_note_and_disposition_are_saved_during_the_call_and_after(asha_client, asha):
    call = answered(asha, minutes_ago=3, ended=False)
    interested = Disposition.objects.get(label="Interested")
    response = asha_client.post(
        f"/calls/inbound/{call.pk}/wrap-up/", {"note": "  asked about plans ", "disposition": interested.pk}, **HX
    )
    assert "Saved." in response.content.decode() and response["HX-Trigger"] == "call-ended, note-saved"
    call.refresh_from_db()
    assert (call.note, call.disposition) == ("asked about plans", interested)

    call.ended_at = timezone.now()
    call.save()
    asha_client.post(f"/calls/inbound/{call.pk}/wrap-up/", {"note": "bought plan B", "disposition": ""}, **HX)
    call.refresh_from_db()
    assert (call.note, call.disposition) == ("bought plan B", None)


def test_an_empty_inbound_wrap_up_says_nothing_was_saved(asha_client, asha):
    call = answered(asha, minutes_ago=3, ended=True)
    html = asha_client.post(
        f"/calls/inbound/{call.pk}/wrap-up/", {"note": "", "disposition": ""}, **HX
    ).content.decode()
    assert "Nothing to save yet: write a note or choose a disposition." in html
    asha_client.post(f"/calls/inbound/{call.pk}/wrap-up/", {"note": "asked about plans", "disposition": ""}, **HX)
    html = asha_client.post(
        f"/calls/inbound/{call.pk}/wrap-up/", {"note": "", "disposition": ""}, **HX
    ).content.decode()
    assert "Note and disposition cleared." in html
    call.refresh_from_db()
    assert call.note == ""


def test_a_refused_note_comes_back_as_typed_with_the_reason(asha_client, asha):
    call = answered(asha, note="first")
    retired = Disposition.objects.create(label="Old", active=False)
    html = asha_client.post(
        f"/calls/inbound/{call.pk}/wrap-up/", {"note": "typed <b>text</b>", "disposition": retired.pk}, **HX
    ).content.decode()
    assert 'role="alert"' in html and "Disposition" in html
    assert "typed &lt;b&gt;text&lt;/b&gt;</textarea>" in html
    too_long = asha_client.post(f"/calls/inbound/{call.pk}/wrap-up/", {"note": "x" * 5001}, **HX).content.decode()
    assert 'role="alert"' in too_long and "x" * 5001 in too_long
    call.refresh_from_db()
    assert call.note == "first"


def test_without_javascript_saving_goes_back_to_the_workspace_with_a_message(asha_client, asha):
    call = answered(asha)
    response = asha_client.post(f"/calls/inbound/{call.pk}/wrap-up/", {"note": "plain form"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/calls/?inbound={call.pk}"  # the call's note form again
    assert "Note saved." in response.content.decode()
    call.refresh_from_db()
    assert call.note == "plain form"


def test_only_the_agent_who_answered_reaches_the_call(asha, vikram_client, supervisor_client):
    call = answered(asha, note="private")
    rang = RingingAlert.objects.create(agent=asha, call_id="1716000000.777777", caller_number="+919800000001")
    for client in (vikram_client, supervisor_client):
        assert client.get(f"/calls/inbound/{call.pk}/panel/").status_code == 404
        assert client.post(f"/calls/inbound/{call.pk}/wrap-up/", {"note": "x"}).status_code == 404
    from tests.conftest import login

    assert login(asha.user).get(f"/calls/inbound/{rang.pk}/panel/").status_code == 404  # never answered
    call.refresh_from_db()
    assert call.note == "private"


def test_history_shows_both_ways_with_their_notes_and_finds_older_national_caller_numbers(
    asha_client, asha, vikram, vikram_client
):
    OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919812345678", note="called about KYC"
    )
    answered(asha, minutes_ago=30, note="called back in")
    answered(asha, minutes_ago=90, caller_number="9812345678", call_id="1716000000.555555", note="stored before")
    answered(vikram, minutes_ago=20, call_id="1716000000.666666", note="Vikram's own")

    html = asha_client.get("/calls/history/?number=98123 45678").content.decode()
    for text in ("called about KYC", "called back in", "stored before", "Called in", "Called by us"):
        assert text in html
    assert "Vikram&#x27;s own" not in html
    assert html.index("called back in") < html.index("stored before")  # newest first

    other = vikram_client.get("/calls/history/?number=9812345678").content.decode()
    assert "Vikram&#x27;s own" in other and "called back in" not in other and "called about KYC" not in other


def test_an_inbound_caller_is_stored_in_e164_so_history_finds_them(asha):
    client = Client()
    ring = {"call_id": "1700000000.000009", "direction": "inbound", "event": "agent_ringing",
            "call_status": "ringing", "agent_number": "+919876500001", "caller_id_number": "09812345678"}  # fmt: skip
    response = client.post(
        "/api/v1/webhooks/smartflo/?token=test-webhook-token", json.dumps(ring), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert RingingAlert.objects.get().caller_number == "+919812345678"


def test_workspace_query_count_holds_with_inbound_calls(asha_client, asha, django_assert_max_num_queries):
    for i in range(10):
        answered(asha, minutes_ago=20 + i, call_id=f"1716000001.{i:06d}", caller_number=f"+9198123456{i:02d}")
    with django_assert_max_num_queries(13):
        html = asha_client.get("/calls/").content.decode()
    assert html.count("(inbound)") == 10


def _event(body: dict) -> None:
    response = Client().post(
        "/api/v1/webhooks/smartflo/?token=test-webhook-token", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("answered_by", ["", "+919800099999"], ids=["no agent number", "an unknown number"])
def test_an_answer_that_does_not_say_who_marks_nobody_in_a_ring_group(asha, vikram, answered_by):
    ring = {"call_id": "1700000000.000011", "direction": "inbound", "caller_id_number": "+919812345678"}
    _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": asha.follow_me_number})
    _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": vikram.follow_me_number})
    _event({**ring, "event": "agent_answered", "call_status": "answered", "answered_agent_number": answered_by})
    assert list(RingingAlert.objects.filter(answered_at__isnull=False)) == []  # nobody may note it as theirs


def test_an_answer_that_does_not_say_who_goes_to_the_only_agent_it_rang(asha):
    ring = {"call_id": "1700000000.000012", "direction": "inbound", "caller_id_number": "+919812345678"}
    _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": asha.follow_me_number})
    _event({**ring, "event": "agent_answered", "call_status": "answered"})
    assert RingingAlert.objects.get().answered_at is not None


def test_write_a_note_loads_the_call_in_place_on_the_workspace_and_opens_it_elsewhere(asha_client, asha):
    call = answered(asha, minutes_ago=3, ended=False)
    on_workspace = asha_client.get("/calls/alerts/", HTTP_HX_CURRENT_URL="http://testserver/calls/", **HX)
    button = re.search(r'<button type="button" class="oncall-note[^>]*>', on_workspace.content.decode()).group(0)
    assert f'hx-get="/calls/inbound/{call.pk}/panel/"' in button and 'hx-target="#panel"' in button
    assert f"click[!document.querySelector('#panel [data-inbound=&quot;{call.pk}&quot;]')]" in button  # no reload
    elsewhere = asha_client.get("/calls/alerts/", HTTP_HX_CURRENT_URL="http://testserver/calls/records/", **HX)
    link = re.search(r'<a href="[^"]*" class="oncall-note"[^>]*>', elsewhere.content.decode()).group(0)
    assert f'href="/calls/?inbound={call.pk}"' in link and "hx-get" not in link


def test_the_workspace_opens_the_inbound_call_asked_for_even_beside_a_live_call_of_ours(asha_client, asha, vikram):
    older = answered(asha, minutes_ago=40, note="the older one")
    answered(asha, minutes_ago=3, ended=False, call_id="1716000000.000777")  # the newest, still on
    OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.IN_PROGRESS
    )
    html = asha_client.get(f"/calls/?inbound={older.pk}").content.decode()
    panel = html[html.index('id="panel"') : html.index("</section>", html.index('id="panel"'))]
    assert f'data-inbound="{older.pk}"' in panel and "the older one" in panel and "/hangup/" not in panel
    theirs = answered(vikram, minutes_ago=5, call_id="1716000000.000888", note="Vikram's")
    for asked in (str(theirs.pk), "x", "9" * 40, "١٢"):  # not hers, not a number, too big, not ASCII
        html = asha_client.get("/calls/", {"inbound": asked}).content.decode()
        assert "Vikram&#x27;s" not in html and "/hangup/" in html  # her live call, as without the link


# --- Hang up and transfer, against the sandbox ----------------------------------------------------


def inbound_live(smartflo, agent) -> RingingAlert:
    """A customer calls in, Smartflo rings `agent`, who answers and talks (held until hung up);
    the row our events would have made."""
    smartflo.set_scenario("9812345678", ring_seconds=0.1, hold=True)
    call_id = smartflo.ring_agent(caller_id_number="9812345678", agent=agent.intercom or agent.smartflo_id)
    smartflo.wait_for_state(call_id, "in_progress")
    now = timezone.now()
    return RingingAlert.objects.create(
        agent=agent, call_id=call_id, caller_number="+919812345678", direction="inbound",
        cleared_at=now, cleared_reason="answered", answered_at=now,
    )  # fmt: skip


def test_hang_up_ends_the_call_in_smartflo_and_here_leaving_the_note_form_alone(asha_client, asha, smartflo):
    call = inbound_live(smartflo, asha)
    response = asha_client.post(f"/calls/inbound/{call.pk}/hangup/", **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="call-state"') and "Ended" in html and "wrap-note" not in html
    assert "hangup" not in html  # no more actions
    assert response["HX-Trigger"] == "call-ended"
    assert not [c for c in smartflo.live_calls() if c["call_id"] == call.call_id]
    call.refresh_from_db()
    assert call.ended_at is not None and call.transferred_to is None


def test_a_hang_up_smartflo_no_longer_has_live_just_ends_it_here(asha_client, asha, smartflo):
    call = inbound_live(smartflo, asha)
    smartflo.hangup(call.call_id)  # the customer hung up; the event has not come yet
    html = asha_client.post(f"/calls/inbound/{call.pk}/hangup/", **HX).content.decode()
    assert "Ended" in html and 'role="alert"' not in html
    call.refresh_from_db()
    assert call.ended_at is not None


def test_transfer_passes_the_call_to_the_colleague_who_can_note_it(asha_client, asha, vikram, vikram_client, smartflo):
    call = inbound_live(smartflo, asha)
    panel = asha_client.get(f"/calls/inbound/{call.pk}/panel/", **HX).content.decode()
    options = re.findall(r'<option value="(\d+)">([^<]+)</option>', panel)
    assert "Vikram Singh" in [name.split(" (")[0] for _, name in options]
    assert "Asha Rao" not in [name.split(" (")[0] for _, name in options]  # not to herself

    response = asha_client.post(f"/calls/inbound/{call.pk}/transfer/", {"agent": vikram.pk}, **HX)
    html = response.content.decode()
    assert "Transferred" in html and "passed to Vikram Singh" in html and response["HX-Trigger"] == "call-ended"
    live = [c for c in smartflo.live_calls() if c["call_id"] == call.call_id]
    assert [c["agent_name"] for c in live] == ["Vikram Singh"]
    call.refresh_from_db()
    assert call.ended_at is not None and call.transferred_to == vikram
    assert "Transferred to Vikram Singh" in asha_client.get("/calls/").content.decode()  # her Today row

    theirs = RingingAlert.objects.get(agent=vikram, call_id=call.call_id)
    assert theirs.is_live and theirs.caller_number == "+919812345678"
    assert 'class="oncall"' in vikram_client.get("/calls/alerts/").content.decode()
    html = vikram_client.get("/calls/").content.decode()
    assert f'data-inbound="{theirs.pk}"' in html and "On the call" in html
    vikram_client.post(f"/calls/inbound/{theirs.pk}/wrap-up/", {"note": "took it from Asha"}, **HX)
    theirs.refresh_from_db()
    assert theirs.note == "took it from Asha"


def test_a_transfer_to_herself_or_nobody_is_refused_and_changes_nothing(asha_client, asha, smartflo):
    call = inbound_live(smartflo, asha)
    html = asha_client.post(f"/calls/inbound/{call.pk}/transfer/", {"agent": asha.pk}, **HX).content.decode()
    assert 'role="alert"' in html and "already with you" in html and "On the call" in html
    html = asha_client.post(f"/calls/inbound/{call.pk}/transfer/", {"agent": ""}, **HX).content.decode()
    assert "Pick a colleague" in html
    call.refresh_from_db()
    assert call.is_live and [c["agent_name"] for c in smartflo.live_calls()] == ["Asha Rao"]


def test_a_supervisors_board_transfer_of_an_inbound_call_moves_it_too(asha, vikram, supervisor_client, smartflo):
    call = inbound_live(smartflo, asha)
    supervisor_client.post(f"/calls/live/{call.call_id}/transfer/", {"agent": vikram.pk})
    call.refresh_from_db()
    assert call.transferred_to == vikram and RingingAlert.objects.get(agent=vikram, call_id=call.call_id).is_live


def test_a_transfer_seen_in_smartflos_events_moves_the_call_then_its_hang_up_ends_it(asha, vikram):
    ring = {"call_id": "1700000000.000013", "direction": "inbound", "caller_id_number": "+919812345678"}
    _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": asha.follow_me_number})
    _event({**ring, "event": "agent_answered", "call_status": "answered",
            "answered_agent_number": asha.follow_me_number})  # fmt: skip
    _event({**ring, "event": "transferred", "call_status": "answered", "agent_number": vikram.follow_me_number,
            "answered_agent_number": vikram.follow_me_number})  # fmt: skip
    hers, theirs = RingingAlert.objects.get(agent=asha), RingingAlert.objects.get(agent=vikram)
    assert hers.transferred_to == vikram and not hers.is_live and theirs.is_live
    _event(
        {**ring, "event": "agent_answered", "call_status": "answered", "answered_agent_number": asha.follow_me_number}
    )  # a late repeat of her answer: changes nothing
    hers.refresh_from_db()
    assert hers.transferred_to == vikram and not hers.is_live
    _event({**ring, "event": "hangup", "call_status": "completed", "hangup_cause": "NORMAL_CLEARING"})
    theirs.refresh_from_db()
    assert theirs.ended_at is not None and theirs.transferred_to is None


def test_an_outbound_calls_transfer_event_makes_no_inbound_rows(asha, vikram):
    _event({"call_id": "1700000000.000014", "direction": "outbound", "event": "transferred", "call_status": "answered",
            "answered_agent_number": vikram.follow_me_number})  # fmt: skip
    assert not RingingAlert.objects.exists()


def test_recent_customers_include_callers_she_answered_newest_first(asha_client, asha):
    placed = OutboundCall.objects.create(requested_by=asha.user, agent=asha, destination="+919876543210")
    OutboundCall.objects.filter(pk=placed.pk).update(requested_at=timezone.now() - timedelta(minutes=30))
    answered(asha, minutes_ago=10, caller_number="+919800000055")
    answered(asha, minutes_ago=50, caller_number="+919876543210", call_id="1716000000.000050")  # dialled later too
    html = asha_client.get("/calls/").content.decode()
    recent = html[html.index("<h2>Recent customers</h2>") :]
    chips = re.findall(r">(\+91\d{10})</a></li>", recent)
    assert chips == ["+919800000055", "+919876543210"]


def test_staff_can_correct_an_inbound_calls_note_in_the_admin_and_nothing_else(admin_client, asha):
    call = answered(asha, note="wrnog note")
    url = f"/admin/calls/ringingalert/{call.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="note"' in page and 'name="disposition"' in page
    assert 'name="caller_number"' not in page and 'name="answered_at_0"' not in page  # from Smartflo: read-only
    interested = Disposition.objects.get(label="Interested")
    response = admin_client.post(url, {"note": "wrong note, fixed", "disposition": interested.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    call.refresh_from_db()
    assert (call.note, call.disposition, call.caller_number) == ("wrong note, fixed", interested, "+919812345678")
    listing = admin_client.get("/admin/calls/ringingalert/?q=9812345678").content.decode()
    assert call.call_id in listing


def test_the_alerts_poll_answers_204_while_nothing_changed(asha_client, asha):
    first = asha_client.get("/calls/alerts/", **HX)
    shown = re.search(r'name="shown" value="(\w+)"', first.content.decode()).group(1)
    assert asha_client.get("/calls/alerts/", {"shown": shown}, **HX).status_code == 204
    RingingAlert.objects.create(agent=asha, call_id="1716000000.000321", caller_number="+919800000321")
    changed = asha_client.get("/calls/alerts/", {"shown": shown}, **HX)
    assert changed.status_code == 200 and "+919800000321" in changed.content.decode()
    assert f'value="{shown}"' not in changed.content.decode()


def test_on_the_workspace_an_answered_call_comes_into_an_empty_panel_by_itself(asha_client, asha):
    call = answered(asha, minutes_ago=1, ended=False)
    html = asha_client.get("/calls/alerts/", HTTP_HX_CURRENT_URL="http://testserver/calls/", **HX).content.decode()
    loader = re.search(r"<span hidden [^>]*>", html).group(0)
    assert f'hx-get="/calls/inbound/{call.pk}/panel/"' in loader and "load[!document.querySelector" in loader
    elsewhere = asha_client.get("/calls/alerts/", HTTP_HX_CURRENT_URL="http://testserver/calls/records/", **HX)
    assert "<span hidden" not in elsewhere.content.decode()


def test_opened_from_write_a_note_the_cursor_is_in_the_note(asha_client, asha):
    call = answered(asha, minutes_ago=1, ended=False)
    assert (
        'id="wrap-note" rows="3" maxlength="5000" autofocus'
        in asha_client.get(f"/calls/?inbound={call.pk}").content.decode()
    )
    assert "autofocus" not in asha_client.get("/calls/").content.decode().split('id="wrap-note"')[1][:60]


def test_a_call_that_rang_and_ended_unanswered_is_missed_at_once_then_listed_once_after_the_sync(
    asha_client, asha, vikram_client
):
    from calls.models import CallRecord

    ring = {"call_id": "1700000000.000021", "direction": "inbound", "caller_id_number": "+919812399999"}
    _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": asha.follow_me_number})
    _event({**ring, "event": "hangup", "call_status": "missed", "hangup_cause": "NO_ANSWER"})
    html = asha_client.get("/calls/").content.decode()
    missed = html[html.index("<h2>Missed calls</h2>") : html.index("<h2>Today</h2>")]
    assert "+919812399999" in missed and "called in, not answered" in missed
    history = asha_client.get("/calls/history/?number=9812399999").content.decode()
    assert "Missed" in history and "Called in" in history and "No calls with this number" not in history
    assert "+919812399999" not in vikram_client.get("/calls/").content.decode()  # it rang at Asha only

    now = timezone.now()
    synced = {"started_at": now, "first_synced_at": now, "synced_at": now, "client_number": "+919812399999"}
    CallRecord.objects.create(call_id=ring["call_id"], direction="inbound", status="missed", agent=asha, **synced)
    html = asha_client.get("/calls/").content.decode()
    missed = html[html.index("<h2>Missed calls</h2>") : html.index("<h2>Today</h2>")]
    assert missed.count("+919812399999</a>") == 1


def test_a_transfer_to_a_colleague_it_had_rung_too_still_moves_the_call(asha, vikram):
    ring = {"call_id": "1700000000.000031", "direction": "inbound", "caller_id_number": "+919812345678"}
    for agent in (asha, vikram):  # a ring group
        _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": agent.follow_me_number})
    _event(
        {**ring, "event": "agent_answered", "call_status": "answered", "answered_agent_number": asha.follow_me_number}
    )
    _event(
        {**ring, "event": "transferred", "call_status": "answered", "answered_agent_number": vikram.follow_me_number}
    )
    hers, theirs = RingingAlert.objects.get(agent=asha), RingingAlert.objects.get(agent=vikram)
    assert hers.transferred_to == vikram and not hers.is_live and theirs.is_live


def test_the_passing_agents_today_row_keeps_saying_transferred_after_the_call_ends(asha_client, asha, vikram):
    OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, transferred_to=vikram, destination="+919876543210",
        status=CallStatus.COMPLETED,
    )  # fmt: skip
    today = asha_client.get("/calls/").content.decode().split("<h2>Today</h2>")[1]
    assert "Transferred to Vikram Singh" in today and "Completed" not in today


def test_transferring_a_call_smartflo_no_longer_has_says_it_ended(asha_client, asha, vikram, smartflo):
    call = inbound_live(smartflo, asha)
    smartflo.hangup(call.call_id)
    html = asha_client.post(f"/calls/inbound/{call.pk}/transfer/", {"agent": vikram.pk}, **HX).content.decode()
    assert "This call had already ended." in html and "Ended" in html
    call.refresh_from_db()
    assert call.ended_at is not None and call.transferred_to is None
    assert not RingingAlert.objects.filter(agent=vikram).exists()


@pytest.mark.parametrize("kind", ["placed", "inbound"])
def test_a_save_over_a_note_changed_elsewhere_is_refused_and_keeps_both(asha_client, vikram_client, asha, vikram, kind):
    if kind == "placed":  # Asha passed it to Vikram; both may write its note
        call = OutboundCall.objects.create(
            requested_by=asha.user, agent=asha, transferred_to=vikram, destination="+919876543210",
            status=CallStatus.COMPLETED,
        )  # fmt: skip
        url, other = f"/calls/{call.pk}/", vikram_client
    else:  # the same agent in two tabs
        call = answered(asha)
        url, other = f"/calls/inbound/{call.pk}/", asha_client
    opened = asha_client.get(url + "panel/", **HX).content.decode()
    base = re.search(r'name="base" value="(\w+)"', opened).group(1)
    other_base = re.search(r'name="base" value="(\w+)"', other.get(url + "panel/", **HX).content.decode()).group(1)
    saved = other.post(url + "wrap-up/", {"note": "refunded", "base": other_base}, **HX)
    assert "note-saved" in saved["HX-Trigger"]

    refused = asha_client.post(url + "wrap-up/", {"note": "customer wants refund", "base": base}, **HX)
    html = refused.content.decode()
    assert "changed elsewhere" in html and "“refunded”" in html and "customer wants refund</textarea>" in html
    assert "note-saved" not in refused.get("HX-Trigger", "")
    assert 'class="muted saved"' in saved.content.decode() and 'class="muted saved"' not in html  # not "Saved."
    call.refresh_from_db()
    assert call.note == "refunded"  # not lost
    new_base = re.search(r'name="base" value="(\w+)"', html).group(1)  # the form is now on the saved note
    asha_client.post(url + "wrap-up/", {"note": "refunded; wanted a refund", "base": new_base}, **HX)
    call.refresh_from_db()
    assert call.note == "refunded; wanted a refund"


def test_a_call_answered_after_all_is_not_missed(asha_client, asha, vikram, supervisor_client):
    from calls.models import CallRecord

    ring = {"call_id": "1700000000.000041", "direction": "inbound", "caller_id_number": "+919812388888"}
    _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": asha.follow_me_number})
    _event({**ring, "event": "hangup", "call_status": "missed", "hangup_cause": "NO_ANSWER"})
    assert "+919812388888" in asha_client.get("/calls/").content.decode()
    now = timezone.now()  # Smartflo's record says it was answered (the hang-up event came first)
    synced = {"started_at": now, "first_synced_at": now, "synced_at": now, "client_number": "+919812388888"}
    CallRecord.objects.create(call_id=ring["call_id"], direction="inbound", status="answered", agent=asha, **synced)
    assert "+919812388888" not in asha_client.get("/calls/").content.decode()

    group = {"call_id": "1700000000.000042", "direction": "inbound", "caller_id_number": "+919812377777"}
    RingingAlert.objects.create(
        agent=asha, call_id=group["call_id"], caller_number="+919812377777", cleared_at=now, cleared_reason="ended"
    )  # fmt: skip  (her ring, unanswered)
    answered(vikram, call_id=group["call_id"], caller_number="+919812377777")  # Vikram took it
    assert "+919812377777" not in asha_client.get("/calls/").content.decode()
    history = supervisor_client.get("/calls/history/?number=9812377777").content.decode()
    assert "Missed" not in history and "Answered" in history


def test_the_history_keeps_the_newest_missed_calls(asha_client, asha):
    now = timezone.now()
    for i in range(105):
        alert = RingingAlert.objects.create(agent=asha, call_id=f"1700000001.{i:06d}", caller_number="+919812366666",
                                            cleared_at=now, cleared_reason="ended")  # fmt: skip
        RingingAlert.objects.filter(pk=alert.pk).update(started_at=now - timedelta(minutes=i))
    html = asha_client.get("/calls/history/?number=9812366666").content.decode()
    assert html.count("Missed") == 100
    assert (now - timedelta(minutes=0)).astimezone(timezone.get_current_timezone()).strftime("%H:%M") in html


def test_an_answer_naming_only_the_agent_it_rang_last_does_not_take_the_call(asha, vikram):
    ring = {"call_id": "1700000000.000051", "direction": "inbound", "caller_id_number": "+919812345678"}
    for agent in (asha, vikram):
        _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": agent.follow_me_number})
    _event(
        {**ring, "event": "agent_answered", "call_status": "answered", "answered_agent_number": asha.follow_me_number}
    )
    _event({**ring, "event": "customer_answered", "call_status": "answered", "agent_number": vikram.follow_me_number})
    hers = RingingAlert.objects.get(agent=asha)
    assert hers.is_live and hers.transferred_to is None  # still Asha's


def test_a_transfer_back_seen_in_the_events_returns_the_call(asha, vikram):
    ring = {"call_id": "1700000000.000052", "direction": "inbound", "caller_id_number": "+919812345678"}
    _event({**ring, "event": "agent_ringing", "call_status": "ringing", "agent_number": asha.follow_me_number})
    _event(
        {**ring, "event": "agent_answered", "call_status": "answered", "answered_agent_number": asha.follow_me_number}
    )
    for agent in (vikram, asha):  # to Vikram, and back to Asha
        _event(
            {**ring, "event": "transferred", "call_status": "answered", "answered_agent_number": agent.follow_me_number}
        )
    hers, his = RingingAlert.objects.get(agent=asha), RingingAlert.objects.get(agent=vikram)
    assert hers.is_live and hers.transferred_to is None
    assert his.transferred_to == asha and not his.is_live


def test_without_javascript_a_refused_note_comes_back_in_the_message(asha_client, asha):
    call = answered(asha)
    base = call.wrap_up_version
    RingingAlert.objects.filter(pk=call.pk).update(note="saved in another tab")
    response = asha_client.post(f"/calls/inbound/{call.pk}/wrap-up/", {"note": "my words", "base": base}, follow=True)
    html = response.content.decode()
    assert "changed elsewhere" in html and "Your text: “my words”" in html
    call.refresh_from_db()
    assert call.note == "saved in another tab"
