"""The agent workspace and panel as the user sees them: provider failures, permissions, wrap-up."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from calls.models import CallStatus, Disposition, OutboundCall

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def dial(client, number="9876543210"):
    return client.post("/calls/place/", {"destination_number": number}, **HX).content.decode()


def test_timeout_shows_outcome_unknown(asha_client, smartflo):
    smartflo.add_fault(endpoint="click_to_call", timeout_rate=1.0)
    html = dial(asha_client)
    assert "Outcome unknown: check before calling again." in html
    assert 'data-status="unknown"' in html
    assert "Smartflo did not answer in time, so the outcome is unknown" in html  # why, as it happened
    assert OutboundCall.objects.get().provider_message.startswith("Outcome unknown: Smartflo did not answer in time.")


def test_a_call_of_unknown_outcome_in_the_panel_offers_the_dispositions_after_a_reload(asha_client, smartflo):
    smartflo.add_fault(endpoint="click_to_call", error_rate=1.0, error_status=503, times=1)
    assert 'data-status="unknown"' in dial(asha_client)
    html = asha_client.get("/calls/").content.decode()
    assert 'data-status="unknown"' in html and 'id="wrap-disposition"' in html
    for disposition in Disposition.objects.filter(active=True):
        assert f'<option value="{disposition.pk}" >{disposition.label}</option>' in html


def test_refusal_shows_smartflos_message(asha_client, asha, smartflo):
    smartflo.block_agent(asha.smartflo_id)
    html = dial(asha_client)
    assert "Smartflo refused" in html
    assert 'data-status="failed"' in html


def test_5xx_is_unknown_and_401_names_the_token(asha_client, smartflo, settings):
    smartflo.add_fault(endpoint="click_to_call", error_rate=1.0, error_status=502, times=1)
    html = dial(asha_client)
    assert 'data-status="unknown"' in html
    assert "Smartflo answered with a server error (HTTP 502), so the outcome is unknown" in html  # not "in time"
    OutboundCall.objects.all().delete()
    settings.SMARTFLO_API_TOKEN = "expired"
    html = dial(asha_client, "9876543211")
    assert "SMARTFLO_API_TOKEN" in html and 'data-status="failed"' in html


def test_double_click_shows_the_call_already_being_set_up(asha_client, smartflo):
    smartflo.set_scenario("9876543210", hold=True)
    dial(asha_client)
    html = dial(asha_client)
    assert "already being set up" in html
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1


def test_bad_number_is_said_beside_the_dial_box_and_leaves_the_call_panel_alone(asha_client, smartflo):
    response = asha_client.post("/calls/place/", {"destination_number": "12345"}, **HX)
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#dial-error", "innerHTML")
    assert "10-digit" in response.content.decode() and "call-panel" not in response.content.decode()
    assert smartflo.requests(path="/v1/click_to_call") == []
    plain = asha_client.post("/calls/place/", {"destination_number": "12345"}, follow=True)  # no JavaScript
    assert plain.redirect_chain == [("/calls/", 302)] and "10-digit" in plain.content.decode()


def test_user_without_an_agent_is_told_why(client, make_user, smartflo):
    client.force_login(make_user("nobody", role="agent"))
    assert "not linked" in client.get("/calls/").content.decode()
    assert "not linked" in client.post("/calls/place/", {"destination_number": "9876543210"}, **HX).content.decode()
    assert smartflo.requests(path="/v1/click_to_call") == []


def test_a_reloaded_workspace_offers_the_transfer_choices(asha_client, asha, smartflo):
    from agents.models import Agent

    colleague = Agent.objects.create(name="Ravi Kumar", follow_me_number="+919876599999", intercom="1099")
    OutboundCall.objects.create(agent=asha, requested_by=asha.user, destination="+919876543210",
                                call_id="1700000000.000777", status=CallStatus.IN_PROGRESS)  # fmt: skip
    html = asha_client.get("/calls/").content.decode()
    assert f'<option value="{colleague.pk}">Ravi Kumar (1099)</option>' in html
    assert f'<option value="{asha.pk}">' not in html  # not to herself


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "panel/"), ("post", "hangup/"), ("post", "transfer/"), ("post", "wrap-up/")],
)
def test_another_agents_call_is_404_on_every_page(asha, vikram_client, smartflo, method, path):
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.IN_PROGRESS, call_id="1.9"
    )
    smartflo.clear_requests()  # the fixtures' agent sync
    response = getattr(vikram_client, method)(f"/calls/{call.pk}/{path}", **HX)
    assert response.status_code == 404
    assert smartflo.requests(path="/v1/*") == []
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS and call.note == ""


def test_wrap_up_saves_note_and_disposition(asha_client, asha):
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED
    )
    disposition = Disposition.objects.get(label="Interested")
    html = asha_client.post(
        f"/calls/{call.pk}/wrap-up/", {"note": "  call back Tuesday ", "disposition": disposition.pk}, **HX
    ).content.decode()
    assert "Saved." in html
    call.refresh_from_db()
    assert (call.note, call.disposition) == ("call back Tuesday", disposition)


def test_an_empty_wrap_up_says_nothing_was_saved_and_clearing_one_says_so(asha_client, asha):
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED
    )
    url = f"/calls/{call.pk}/wrap-up/"
    html = asha_client.post(url, {"note": "   ", "disposition": ""}, **HX).content.decode()
    assert '<span class="muted saved" role="status">Nothing to save yet: write a note or choose a disposition.' in html
    assert "Saved." not in html
    page = asha_client.post(url, {"note": "", "disposition": ""}, follow=True).content.decode()  # without JavaScript
    assert "Nothing to save yet: write a note or choose a disposition." in page

    asha_client.post(url, {"note": "call back", "disposition": Disposition.objects.get(label="Interested").pk}, **HX)
    html = asha_client.post(url, {"note": "", "disposition": ""}, **HX).content.decode()
    assert "Note and disposition cleared." in html and "Saved." not in html
    call.refresh_from_db()
    assert (call.note, call.disposition) == ("", None)


def test_the_wrap_up_service_itself_refuses_an_empty_save_and_says_when_one_clears(asha):
    from calls.services import call_wrap_up
    from calls.services.actions import NothingToSave

    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED
    )
    with pytest.raises(NothingToSave):
        call_wrap_up(call=call, note="  ", disposition=None)
    assert call_wrap_up(call=call, note="call back", disposition=None).wrap_up_cleared is False
    assert call_wrap_up(call=call, note="", disposition=None).wrap_up_cleared is True


def test_retired_disposition_is_refused(asha_client, asha):
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED
    )
    retired = Disposition.objects.create(label="Old", active=False)
    html = asha_client.post(f"/calls/{call.pk}/wrap-up/", {"note": "x", "disposition": retired.pk}, **HX)
    assert "Disposition: Select a valid choice" in html.content.decode()
    call.refresh_from_db()
    assert call.disposition is None


def test_a_refused_note_comes_back_as_typed_with_the_reason(asha_client, asha):
    """Past 5,000 characters (the browser's maxlength removed): the reason is given and the text
    the agent typed is still in the box, not lost."""
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.COMPLETED, note="old"
    )
    typed = "customer wants a callback " * 240  # 6,240 characters
    html = asha_client.post(f"/calls/{call.pk}/wrap-up/", {"note": typed, "disposition": ""}, **HX).content.decode()
    assert "at most 5000 characters" in html
    assert typed.strip() in html
    call.refresh_from_db()
    assert call.note == "old"


def test_workspace_lists_and_query_count(asha_client, asha, django_assert_max_num_queries):
    for i in range(20):
        OutboundCall.objects.create(
            requested_by=asha.user,
            agent=asha,
            destination=f"+9198765432{i:02d}",
            status=CallStatus.MISSED if i % 2 else CallStatus.COMPLETED,
        )
    # (15: two of them ask whether the missed customers were spoken with since)
    with django_assert_max_num_queries(15):
        html = asha_client.get("/calls/").content.decode()
    assert html.count("Call back") == 10
    assert "+919876543201" in html


def test_history_shows_only_visible_calls(asha, vikram, vikram_client):
    OutboundCall.objects.create(requested_by=asha.user, agent=asha, destination="+919876543210", note="secret")
    html = vikram_client.get("/calls/history/?number=9876543210").content.decode()
    assert "secret" not in html
    assert "No calls with this number that you can see." in html


@pytest.mark.parametrize("typed", ["98765", "", "abc", "98765 4321"])
def test_history_of_a_bad_number_asks_for_a_full_one(asha, asha_client, typed):
    OutboundCall.objects.create(requested_by=asha.user, agent=asha, destination="+919876543210", note="secret")
    response = asha_client.get("/calls/history/", {"number": typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a full Indian phone number" in html
    assert f'name="number" value="{typed}"' in html  # typed again in place, and sent to this page
    assert 'action="/calls/history/"' in html
    assert "secret" not in html and "Calls with" not in html


def test_history_of_a_number_written_any_way_finds_the_calls(asha, asha_client):
    OutboundCall.objects.create(requested_by=asha.user, agent=asha, destination="+919876543210", note="Call Tuesday")
    html = asha_client.get("/calls/history/", {"number": "098765-43210"}).content.decode()
    assert "Calls with +919876543210" in html and "Call Tuesday" in html
    assert "Enter a full Indian phone number" not in html


def test_beat_runs_the_agent_sync_hourly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["sync-agents-hourly"]
    assert entry == {"task": "agents.sync_agents", "schedule": 3600.0}


def test_agent_sync_task_runs_the_sync(smartflo):
    from agents.models import Agent
    from agents.tasks import sync_agents

    sync_agents.delay()  # eager in tests
    assert Agent.objects.count() == 3


def test_live_panel_polls_only_its_state_line_then_swaps_in_the_wrap_up(asha_client, asha):
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.IN_PROGRESS
    )
    state = asha_client.get(f"/calls/{call.pk}/panel/?part=state&shown=in_progress", **HX)
    html = state.content.decode()
    assert 'id="call-state"' in html and "every 1s" in html
    assert "Transfer" not in html  # the picker is not re-rendered while the call is live
    # The panel was drawn while ringing: the answer redraws it, now with the transfer picker.
    answered = asha_client.get(f"/calls/{call.pk}/panel/?part=state&shown=customer_ringing", **HX)
    assert answered["HX-Retarget"] == "#panel"
    assert 'id="transfer"' in answered.content.decode()
    OutboundCall.objects.filter(pk=call.pk).update(status=CallStatus.COMPLETED)
    ended = asha_client.get(f"/calls/{call.pk}/panel/?part=state&shown=in_progress", **HX)
    assert ended["HX-Retarget"] == "#panel"
    assert ended["HX-Trigger"] == "call-ended"
    assert "Save note" in ended.content.decode()


def test_second_call_after_a_timeout_is_refused_until_checked(asha_client, smartflo):
    smartflo.add_fault(endpoint="click_to_call", timeout_rate=1.0, times=1)
    dial(asha_client)
    html = dial(asha_client)
    assert "outcome is unknown" in html
    assert len(smartflo.requests(path="/v1/click_to_call")) == 1


def test_foreign_numbers_are_refused_unless_enabled(asha_client, smartflo, settings):
    assert "not enabled" in dial(asha_client, "+1 415 555 0123")
    assert smartflo.requests(path="/v1/click_to_call") == []


def test_board_transfer_with_a_bad_agent_id_is_a_message_not_a_500(supervisor_client, smartflo):
    response = supervisor_client.post("/calls/live/1.2/transfer/", {"agent": "abc"})
    assert response.status_code == 200
    assert "Pick an agent" in response.content.decode()


def test_transferred_call_shows_in_the_receiving_agents_workspace(asha, vikram, vikram_client):
    OutboundCall.objects.create(
        requested_by=asha.user,
        agent=asha,
        transferred_to=vikram,
        destination="+919876543210",
        status=CallStatus.IN_PROGRESS,
    )
    html = vikram_client.get("/calls/").content.decode()
    assert 'id="call-state"' in html and "+919876543210" in html


def test_missed_calls_include_customers_who_called_in(asha_client, asha):
    from django.utils import timezone

    from calls.models import CallRecord

    CallRecord.objects.create(
        call_id="1700000000.1",
        agent=asha,
        direction="inbound",
        status="missed",
        client_number="+919811111111",
        started_at=timezone.now(),
        first_synced_at=timezone.now(),
        synced_at=timezone.now(),
    )
    CallRecord.objects.create(
        call_id="1700000000.2",
        agent=asha,
        direction="inbound",
        status="answered",
        client_number="+919822222222",
        started_at=timezone.now(),
        first_synced_at=timezone.now(),
        synced_at=timezone.now(),
    )
    OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919833333333", status=CallStatus.MISSED,
        agent_answered_at=timezone.now(),
    )  # fmt: skip
    OutboundCall.objects.create(  # her own phone did not answer: the customer was never rung
        requested_by=asha.user, agent=asha, destination="+919844444444", status=CallStatus.MISSED
    )
    html = asha_client.get("/calls/").content.decode()
    missed = html[html.index("<h2>Missed calls</h2>") : html.index("<h2>Today</h2>")]
    rows = dict(re.findall(r">(\+91\d{10})</a></td>(.*?)</tr>", missed, re.S))
    assert "called in, not answered" in rows["+919811111111"]
    assert "did not pick up your call" in rows["+919833333333"]
    assert "not dialled: your phone did not answer" in rows["+919844444444"]
    assert "+919822222222" not in html


def test_a_call_the_agent_hangs_up_while_it_rings_is_cancelled_not_missed(asha_client, asha, smartflo):
    """Called off before the customer answered (her phone still ringing): Smartflo's hang-up event
    says missed, but nobody missed anything. Today says Cancelled; Missed calls does not list it."""
    import json

    from django.test import Client

    smartflo.set_scenario("9876543210", ring_seconds=30)
    call_id = asha_client.post(
        "/api/v1/calls/click-to-call/", {"destination_number": "9876543210"}, content_type="application/json"
    ).json()["call_id"]
    smartflo.wait_for_state(call_id, "agent_ringing")
    call = OutboundCall.objects.get(call_id=call_id)
    assert asha_client.post(f"/calls/{call.pk}/hangup/", **HX).status_code == 200
    hangup = {"call_id": call_id, "custom_identifier": str(call.custom_identifier), "direction": "outbound",
              "event": "hangup", "call_status": "missed", "billsec": "0", "answer_stamp": ""}  # fmt: skip
    Client().post("/api/v1/webhooks/smartflo/?token=test-webhook-token", json.dumps(hangup),
                  content_type="application/json")  # fmt: skip
    call.refresh_from_db()
    assert call.status == CallStatus.MISSED and call.cancelled_at is not None
    html = asha_client.get("/calls/").content.decode()
    missed = html[html.index("<h2>Missed calls</h2>") : html.index("<h2>Today</h2>")]
    assert "+919876543210" not in missed
    today = html[html.index("<h2>Today</h2>") :]
    assert '<span class="badge status-cancelled">Cancelled</span>' in today and "status-missed" not in today
    panel = asha_client.get(f"/calls/{call.pk}/panel/", **HX).content.decode()  # Add note brings it back
    assert '<span class="badge status-cancelled" id="call-status">Cancelled</span>' in panel

    # a customer who did not pick up is still missed
    OutboundCall.objects.create(requested_by=asha.user, agent=asha, destination="+919876543211",
                                status=CallStatus.MISSED, agent_answered_at=call.requested_at)  # fmt: skip
    html = asha_client.get("/calls/").content.decode()
    assert "+919876543211</a>" in html[html.index("<h2>Missed calls</h2>") : html.index("<h2>Today</h2>")]


def test_a_call_hung_up_after_the_customer_answered_is_not_cancelled(asha_client, asha, smartflo):
    from calls.services.state import call_transition

    smartflo.set_scenario("9876543210", hold=True)
    call_id = asha_client.post(
        "/api/v1/calls/click-to-call/", {"destination_number": "9876543210"}, content_type="application/json"
    ).json()["call_id"]
    smartflo.wait_for_state(call_id, "in_progress")  # Smartflo lists it answered: a hang-up ends a talk
    call = OutboundCall.objects.get(call_id=call_id)
    assert asha_client.post(f"/calls/{call.pk}/hangup/", **HX).status_code == 200
    call.refresh_from_db()
    assert call.cancelled_at is None and call.status == CallStatus.COMPLETED

    # called off, then the customer's answer arrives after all: it was answered, not cancelled
    OutboundCall.objects.filter(pk=call.pk).update(
        status=CallStatus.CUSTOMER_RINGING, answered_at=None, cancelled_at=timezone.now()
    )
    call_transition(call=call, to=CallStatus.IN_PROGRESS)
    call.refresh_from_db()
    assert call.cancelled_at is None and call.answered_at is not None


def test_a_missed_customer_leaves_the_list_once_spoken_with(asha_client, asha):
    from datetime import timedelta

    from django.utils import timezone

    from calls.models import RingingAlert

    earlier = timezone.now() - timedelta(hours=2)
    for number in ("+919833333333", "+919844444444", "+919855555555"):
        missed = OutboundCall.objects.create(
            requested_by=asha.user, agent=asha, destination=number, status=CallStatus.MISSED
        )
        OutboundCall.objects.filter(pk=missed.pk).update(requested_at=earlier)
    # called back and answered; called in and answered; called back, not answered again
    OutboundCall.objects.create(requested_by=asha.user, agent=asha, destination="+919833333333",
                                status=CallStatus.COMPLETED, answered_at=timezone.now())  # fmt: skip
    RingingAlert.objects.create(agent=asha, call_id="1700000000.9", caller_number="+919844444444",
                                answered_at=timezone.now())  # fmt: skip
    OutboundCall.objects.create(requested_by=asha.user, agent=asha, destination="+919855555555",
                                status=CallStatus.MISSED)  # fmt: skip
    html = asha_client.get("/calls/").content.decode()
    missed = html[html.index("<h2>Missed calls</h2>") : html.index("<h2>Today</h2>")]
    assert "+919833333333" not in missed and "+919844444444" not in missed
    assert missed.count("+919855555555</a>") == 2  # still not reached: both tries stay


def test_an_ended_call_of_today_can_be_wrapped_up_later_from_its_row(asha_client, asha, smartflo):
    """After a reload the panel is gone; the Today row brings the wrap-up form back."""
    ended = OutboundCall.objects.create(agent=asha, requested_by=asha.user, destination="+919876543210",
                                        call_id="1700000000.000778", status=CallStatus.COMPLETED)  # fmt: skip
    html = asha_client.get("/calls/").content.decode()
    assert f'hx-get="/calls/{ended.pk}/panel/"' in html and ">Add note</button>" in html
    panel = asha_client.get(f"/calls/{ended.pk}/panel/", **HX).content.decode()
    assert f'hx-post="/calls/{ended.pk}/wrap-up/"' in panel and 'id="wrap-note"' in panel
    asha_client.post(f"/calls/{ended.pk}/wrap-up/", {"note": "Call back Friday"}, **HX)
    assert ">Edit note</button>" in asha_client.get("/calls/").content.decode()


def _transferred_live_call(asha_client, vikram, smartflo) -> OutboundCall:
    smartflo.set_scenario("9876543210", hold=True)
    asha_client.post("/calls/place/", {"destination_number": "9876543210"}, **HX)
    call = OutboundCall.objects.get()
    smartflo.wait_for_state(call.call_id, "in_progress")
    OutboundCall.objects.filter(pk=call.pk).update(status=CallStatus.IN_PROGRESS)
    html = asha_client.post(f"/calls/{call.pk}/transfer/", {"agent": vikram.pk}, **HX).content.decode()
    assert "Transferred" in html
    call.refresh_from_db()
    return call


def test_a_call_she_transferred_is_no_longer_hers_to_end_but_she_can_note_it_and_dial_again(
    asha_client, asha, vikram, vikram_client, smartflo
):
    call = _transferred_live_call(asha_client, vikram, smartflo)
    panel = asha_client.get(f"/calls/{call.pk}/panel/", **HX).content.decode()
    assert 'id="hangup"' not in panel and 'id="transfer"' not in panel and 'id="wrap-note"' in panel
    assert "no longer yours" in panel and "every 1s" not in panel  # no state poll for a call she passed on

    refusal = "This call is with Vikram Singh now: only they or a supervisor can act on it."
    refused = asha_client.post(f"/calls/{call.pk}/hangup/", **HX).content.decode()
    assert refusal in refused
    refused = asha_client.post(f"/calls/{call.pk}/transfer/", {"agent": asha.pk}, **HX).content.decode()
    assert refusal in refused
    refused = asha_client.post(f"/calls/{call.pk}/transfer/", {}, **HX).content.decode()
    assert refusal in refused  # not "Pick a colleague": picking one would not help
    assert [c["agent_name"] for c in smartflo.live_calls()] == ["Vikram Singh"]  # nothing reached Smartflo
    for action, body in (("hangup", {}), ("transfer", {"agent": asha.pk})):  # nor through the API, in the same words
        api = asha_client.post(f"/api/v1/calls/{call.call_id}/{action}/", body, content_type="application/json")
        assert (api.status_code, api.json()["code"], api.json()["message"]) == (409, "call_transferred", refusal)
    assert [c["agent_name"] for c in smartflo.live_calls()] == ["Vikram Singh"]

    html = asha_client.get("/calls/").content.decode()
    assert "No call in progress" in html and "Transferred to Vikram Singh" in html and "Add note" in html
    asha_client.post(f"/calls/{call.pk}/wrap-up/", {"note": "passed to sales"}, **HX)
    call.refresh_from_db()
    assert call.note == "passed to sales"

    smartflo.set_scenario("9876500099", hold=True)
    asha_client.post("/calls/place/", {"destination_number": "9876500099"}, **HX)
    assert OutboundCall.objects.count() == 2  # she is free to dial while Vikram talks

    vikram_panel = vikram_client.get("/calls/").content.decode()
    assert f"/calls/{call.pk}/hangup/" in vikram_panel  # the call is his: he can end it
    vikram_client.post("/calls/place/", {"destination_number": "9876500098"}, **HX)
    assert OutboundCall.objects.count() == 2  # and he is on it, so he can't dial


def test_when_a_supervisor_transfers_her_call_her_polled_panel_drops_the_actions(
    asha_client, asha, vikram, supervisor_client, smartflo
):
    smartflo.set_scenario("9876543210", hold=True)
    asha_client.post("/calls/place/", {"destination_number": "9876543210"}, **HX)
    call = OutboundCall.objects.get()
    smartflo.wait_for_state(call.call_id, "in_progress")
    OutboundCall.objects.filter(pk=call.pk).update(status=CallStatus.IN_PROGRESS)
    state = f"/calls/{call.pk}/panel/?part=state&shown=in_progress"
    assert "HX-Retarget" not in asha_client.get(state, **HX)  # unchanged: the state line only
    supervisor_client.post(f"/calls/live/{call.call_id}/transfer/", {"agent": vikram.pk})
    response = asha_client.get(state, **HX)
    assert response["HX-Retarget"] == "#panel" and 'id="hangup"' not in response.content.decode()
    assert "Transferred" in response.content.decode()
    assert "HX-Retarget" not in supervisor_client.get(state, **HX)  # a supervisor still acts on it
