"""The webhook endpoint: auth, body formats, duplicates, reordering, blanks, unknown statuses."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from calls.models import CallEvent, CallStatus, OutboundCall, RingingAlert

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/smartflo/"
TOKEN = "test-webhook-token"  # tests/settings.py


@pytest.fixture
def call(asha):
    return OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=CallStatus.ORIGINATING
    )


def event(call, **fields):
    body = {
        "call_id": "1715235734.129662",
        "uuid": "61111f5e708c5",
        "custom_identifier": str(call.custom_identifier),
        "direction": "outbound",
        "call_status": "ringing",
        "event": "agent_ringing",
        "start_stamp": "2024-05-09 11:52:14",
        "answer_stamp": "",
        "end_stamp": "",
        "recording_url": "",
        "hangup_cause": "",
    }
    body.update(fields)
    return body


def post_json(body, token=TOKEN, **headers):
    url = URL + (f"?token={token}" if token else "")
    return Client().post(url, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("how", "expected"),
    [("query", 200), ("header", 200), ("none", 401), ("wrong-query", 401), ("wrong-header", 401)],
)
def test_token_as_query_or_header_else_401(call, how, expected):
    body = json.dumps(event(call))
    client = Client()
    if how == "query":
        response = client.post(f"{URL}?token={TOKEN}", body, content_type="application/json")
    elif how == "header":
        response = client.post(URL, body, content_type="application/json", HTTP_X_WEBHOOK_TOKEN=TOKEN)
    elif how == "wrong-query":
        response = client.post(f"{URL}?token=nope", body, content_type="application/json")
    elif how == "wrong-header":
        response = client.post(URL, body, content_type="application/json", HTTP_X_WEBHOOK_TOKEN="nope")
    else:
        response = client.post(URL, body, content_type="application/json")
    assert response.status_code == expected
    if expected == 401:
        assert response.json()["code"] == "not_authenticated"
        assert CallEvent.objects.count() == 0
    else:
        call.refresh_from_db()
        assert call.status == CallStatus.AGENT_RINGING


def test_no_token_configured_refuses_everything(call, settings):
    settings.SMARTFLO_WEBHOOK_TOKEN = ""
    assert post_json(event(call), token="").status_code == 401
    assert post_json(event(call), token="anything").status_code == 401


def test_form_body_and_get_query_work_too(call):
    form = Client().post(f"{URL}?token={TOKEN}", event(call))  # form-encoded
    assert form.status_code == 200
    get = Client().get(URL, {**event(call, event="agent_answered", call_status="answered"), "token": TOKEN})
    assert get.status_code == 200
    call.refresh_from_db()
    assert call.status == CallStatus.AGENT_ANSWERED


def test_duplicates_change_nothing_but_are_stored(call):
    post_json(event(call, event="customer_answered", call_status="answered"))
    call.refresh_from_db()
    before = (call.status, call.updated_at)
    response = post_json(event(call, event="customer_answered", call_status="answered"))
    assert response.status_code == 200
    call.refresh_from_db()
    assert (call.status, call.updated_at) == before
    assert CallEvent.objects.filter(duplicate=True).count() == 1
    assert CallEvent.objects.count() == 2


def test_a_late_ringing_after_completed_is_ignored(call):
    post_json(event(call, event="hangup", call_status="completed", end_stamp="2024-05-09 11:53:00", duration="46"))
    late = post_json(event(call, event="agent_ringing", call_status="ringing"))
    assert late.status_code == 200
    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED
    assert "ignored" in CallEvent.objects.last().outcome


def test_blanks_never_overwrite_known_values(call):
    post_json(
        event(
            call,
            event="hangup",
            call_status="completed",
            recording_url="https://rec.example/a.mp3",
            hangup_cause="NORMAL_CLEARING",
            duration="46",
        )
    )
    post_json(
        event(
            call,
            event="hangup",
            call_status="completed",
            recording_url="",
            hangup_cause="",
            duration="",
            uuid="other-leg",
        )
    )
    call.refresh_from_db()
    assert call.recording_url == "https://rec.example/a.mp3"
    assert call.hangup_cause == "NORMAL_CLEARING"
    assert call.duration_seconds == 46


def test_a_recording_url_arriving_later_fills_in(call):
    post_json(event(call, event="hangup", call_status="completed"))
    post_json(event(call, event="recording", call_status="completed", recording_url="https://rec.example/b.mp3"))
    call.refresh_from_db()
    assert call.recording_url == "https://rec.example/b.mp3"
    assert call.status == CallStatus.COMPLETED


def test_unknown_statuses_are_kept_not_rejected(call):
    response = post_json(event(call, event="", call_status="Queue-Overflow"))
    assert response.status_code == 200
    stored = CallEvent.objects.get()
    assert stored.call_status == "queue-overflow"
    assert stored.payload["call_status"] == "Queue-Overflow"
    call.refresh_from_db()
    assert call.status == CallStatus.ORIGINATING


def test_events_without_an_event_name_map_from_the_status(call):
    post_json(event(call, event="", call_status="answered"))
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS
    post_json(event(call, event="", call_status="missed"))  # too late for missed: it was answered
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS
    post_json(event(call, event="", call_status="completed"))
    call.refresh_from_db()
    assert call.status == CallStatus.COMPLETED


def test_call_id_links_events_without_our_identifier(call):
    post_json(event(call))  # carries both: learns the call id
    post_json({"call_id": "1715235734.129662", "call_status": "answered", "event": "customer_answered"})
    call.refresh_from_db()
    assert call.call_id == "1715235734.129662"
    assert call.status == CallStatus.IN_PROGRESS


def test_events_for_calls_we_did_not_place_are_stored(db):
    response = post_json({"call_id": "1.2", "call_status": "answered", "direction": "inbound"})
    assert response.status_code == 200
    assert CallEvent.objects.get().outcome.startswith("no local call")
    assert CallEvent.objects.get().outbound_call is None


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2, 3]", b'"just a string"', b"{}", b'{"call_status": "ringing"}', b"\xff\xfe\x00"],
)
def test_malformed_bodies_get_a_400_never_a_500(db, raw):
    response = Client().post(f"{URL}?token={TOKEN}", raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in ("parse_error", "malformed_event")


def test_oversized_fields_are_refused(db):
    response = post_json({"call_id": "1.2", "notes": "x" * 10000})
    assert response.status_code == 400


def test_inbound_ringing_pops_up_for_that_agent_and_answer_clears_it(asha, vikram):
    ring = {
        "call_id": "1700000000.000001",
        "direction": "inbound",
        "event": "agent_ringing",
        "call_status": "ringing",
        "agent_number": "+919876500001",
        "caller_id_number": "+919812345678",
    }
    post_json(ring)
    alert = RingingAlert.objects.get()
    assert alert.agent == asha
    assert alert.caller_number == "+919812345678"
    post_json({**ring, "event": "agent_answered", "call_status": "answered"})
    alert.refresh_from_db()
    assert alert.cleared_at is not None and alert.cleared_reason == "answered"


def test_an_answered_inbound_call_shows_as_the_agents_call_until_it_ends(asha, vikram):
    from tests.conftest import login

    ring = {
        "call_id": "1700000000.000003",
        "direction": "inbound",
        "event": "agent_ringing",
        "call_status": "ringing",
        "agent_number": "+919876500001",
        "caller_id_number": "+919812345678",
    }
    asha_client, vikram_client = login(asha.user), login(vikram.user)
    post_json(ring)
    assert 'class="popup"' in asha_client.get("/calls/alerts/").content.decode()

    post_json({**ring, "event": "agent_answered", "call_status": "answered", "answered_agent_number": "+919876500001"})
    html = asha_client.get("/calls/alerts/").content.decode()
    assert 'class="popup"' not in html and 'class="oncall"' in html and "+919812345678" in html
    assert 'class="oncall"' not in vikram_client.get("/calls/alerts/").content.decode()

    post_json({**ring, "event": "hangup", "call_status": "completed", "hangup_cause": "NORMAL_CLEARING"})
    assert 'class="oncall"' not in asha_client.get("/calls/alerts/").content.decode()
    alert = RingingAlert.objects.get()
    assert alert.answered_at is not None and alert.ended_at >= alert.answered_at


def test_an_answer_that_arrives_after_the_hang_up_shows_no_call(asha):
    from tests.conftest import login

    ring = {"call_id": "1700000000.000004", "direction": "inbound", "agent_number": "+919876500001",
            "caller_id_number": "+919812345678"}  # fmt: skip
    post_json({**ring, "event": "agent_ringing", "call_status": "ringing"})
    post_json({**ring, "event": "hangup", "call_status": "missed", "hangup_cause": "NO_ANSWER"})
    post_json({**ring, "event": "agent_answered", "call_status": "answered"})  # out of order, late
    assert 'class="oncall"' not in login(asha.user).get("/calls/alerts/").content.decode()
    assert RingingAlert.objects.get().answered_at is None


@pytest.mark.django_db(transaction=True)
def test_sandbox_delivers_webhooks_with_duplicates_and_reordering(asha, smartflo, live_server):
    """End to end: the sandbox posts real webhooks, duplicated and reordered, to the app."""
    from calls.services import call_place

    smartflo.configure(webhook_url=live_server.url + URL, webhook_token=TOKEN)
    smartflo.set_webhook_faults(duplicate_rate=0.5, reorder=True)
    call = call_place(requested_by=asha.user, agent=asha, destination="9876543210")
    smartflo.wait_for_webhooks(5, call_id=call.call_id, timeout=10)
    import time

    deadline = time.monotonic() + 10
    stored = delivered = 0
    while time.monotonic() < deadline:
        call.refresh_from_db()
        time.sleep(0.3)  # let deliveries in flight land
        stored = CallEvent.objects.filter(call_id=call.call_id).count()
        delivered = len(smartflo.webhooks(call_id=call.call_id))
        if call.status == CallStatus.COMPLETED and stored == delivered >= 5:
            break
    assert call.status == CallStatus.COMPLETED
    assert call.recording_url
    assert stored == delivered  # every delivery stored, duplicates included
    assert CallEvent.objects.filter(call_id=call.call_id, duplicate=True).count() == delivered - 5


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # Smartflo's own hangup trigger: no `event`, status "answered", but an end stamp and billsec.
        (
            {
                "event": "",
                "call_status": "answered",
                "end_stamp": "2024-05-09 11:53:00",
                "billsec": "40",
                "hangup_cause": "NORMAL_CLEARING",
            },
            CallStatus.COMPLETED,
        ),
        ({"event": "", "call_status": "missed", "end_stamp": "2024-05-09 11:53:00"}, CallStatus.MISSED),
        ({"event": "hangup", "call_status": "", "billsec": "0", "answer_stamp": ""}, CallStatus.MISSED),
        ({"event": "hangup", "call_status": "", "billsec": "12"}, CallStatus.COMPLETED),
        ({"event": "", "call_status": "busy", "hangup_cause": "USER_BUSY"}, CallStatus.MISSED),
        ({"event": "hangup", "call_status": "failed"}, CallStatus.FAILED),
    ],
)
def test_hangup_events_end_the_call(call, fields, expected):
    assert post_json(event(call, **fields)).status_code == 200
    call.refresh_from_db()
    assert call.status == expected


def test_hangup_with_an_unknown_status_is_kept_not_applied(call):
    post_json(event(call, event="hangup", call_status="Transferred-To-IVR"))
    call.refresh_from_db()
    assert call.status == CallStatus.ORIGINATING
    assert "kept" in CallEvent.objects.get().outcome


@pytest.mark.parametrize(
    "fields",
    [
        {
            "call_id": "9" * 70,
            "direction": "inbound",
            "event": "agent_ringing",
            "agent_number": "+919876500001",
            "caller_id_number": "+91" + "9" * 40,
        },
        {"call_id": "1.2", "notes": "nul\x00byte"},
    ],
)
def test_long_or_odd_values_never_500(asha, fields):
    assert post_json(fields).status_code == 200


@pytest.mark.parametrize("stamp", ["0001-01-01 00:00:00", "0282-08-01 14:07:42"])
def test_a_stamp_from_another_century_is_ignored_like_any_garbled_one(call, asha_client, stamp):
    # Year 1 used to be a 500 (it overflows in UTC); year 282 came back from the API with the
    # offset +05:53:28, which is not ISO 8601.
    response = post_json(event(call, event="", call_status="answered", answer_stamp=stamp))
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS
    assert call.answered_at.year > 2000  # the stamp was ignored: answered when the event came
    assert asha_client.get(f"/api/v1/calls/{call.pk}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_twin_deliveries_racing_each_other_apply_once(call):
    import threading

    from django.db import connection

    from calls.services import call_event_ingest

    body = event(call, event="customer_answered", call_status="answered")
    barrier = threading.Barrier(4)
    errors = []

    def deliver():
        try:
            barrier.wait()
            call_event_ingest(payload=dict(body))
        except Exception as exc:  # pragma: no cover - shown in the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert CallEvent.objects.filter(duplicate=False).count() == 1
    assert CallEvent.objects.filter(duplicate=True).count() == 3
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS
