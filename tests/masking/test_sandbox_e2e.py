"""End to end: the Smartflo sandbox places a masked call and asks this app (a live server, over
real HTTP, with the documented body and `Authorization: Bearer`) where to connect it."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from masking.models import ResolutionLog
from masking.services import masking_number_create, masking_rule_create
from tests.masking.conftest import FALLBACK, MASKING, RESOLVE_URL, TOKEN, A, B

pytestmark = pytest.mark.django_db(transaction=True)


def logged(*outcomes: dict, timeout: float = 3.0) -> list[ResolutionLog]:
    """Our log rows for these sandbox calls, once all are written.

    Each row is written just after its answer went out, so it may land a moment after the
    sandbox reported back; every test waits for its own rows, so none lands in the next test.
    """
    call_ids = [outcome["call_id"] for outcome in outcomes]
    deadline = time.monotonic() + timeout
    while True:
        rows = list(ResolutionLog.objects.filter(call_id__in=call_ids).order_by("pk"))
        if len(rows) >= len(call_ids) or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)


@pytest.fixture
def dialplan(sandbox, live_server):
    """The sandbox's API Dialplan pointed at this app, as `make dev` does."""
    sandbox.configure(dialplan_url=live_server.url + RESOLVE_URL, dialplan_token=TOKEN, dialplan_timeout=5)
    return sandbox


@pytest.fixture
def rule(db):
    return masking_rule_create(masking_number=MASKING, party_a=A, party_b=B, two_way=True)


def test_a_masked_call_is_connected_to_party_b(dialplan, rule):
    outcome = dialplan.inbound_call(caller_id_number="98450 12345", call_to_number="8069000111")
    assert outcome["outcome"] == "connected", outcome
    assert outcome["connected_to"] == "9876500002"
    assert outcome["request"]["call_to_number"] == "+91-8069000111"  # the documented form reached us

    (entry,) = logged(outcome)
    assert (entry.call_id, entry.uuid) == (outcome["call_id"], outcome["uuid"])
    assert (entry.outcome, entry.answer, entry.matched_rule_id) == ("matched", "9876500002", rule.pk)
    record = dialplan.record(outcome["call_id"])
    assert (record["direction"], record["status"], record["destination"]) == ("inbound", "answered", B)


def test_party_b_calling_back_reaches_party_a(dialplan, rule):
    outcome = dialplan.inbound_call(caller_id_number="+919876500002", call_to_number="+91 80690 00111")
    assert (outcome["outcome"], outcome["connected_to"]) == ("connected", "9845012345")
    assert [entry.caller for entry in logged(outcome)] == [B]


def test_an_unmatched_call_fails_over(dialplan, rule):
    outcome = dialplan.inbound_call(caller_id_number="9812300003", call_to_number="8069000111")
    assert outcome["outcome"] == "failover"
    assert outcome["reason"] == "http 404"
    record = dialplan.record(outcome["call_id"])
    assert (record["status"], record["destination"]) == ("missed", "Failover")
    assert [entry.outcome for entry in logged(outcome)] == ["no_rule"]


def test_an_unmatched_call_reaches_the_fallback_number_when_set(dialplan, rule, settings):
    settings.MASKING_FALLBACK_NUMBER = FALLBACK
    outcome = dialplan.inbound_call(caller_id_number="9812300003", call_to_number="8069000111")
    assert (outcome["outcome"], outcome["connected_to"]) == ("connected", "9000000009")
    assert [(entry.outcome, entry.fallback) for entry in logged(outcome)] == [("no_rule", True)]


def test_a_wrong_token_fails_over(dialplan, rule):
    dialplan.configure(dialplan_token="not-the-token")
    outcome = dialplan.inbound_call(caller_id_number="9845012345", call_to_number="8069000111")
    assert (outcome["outcome"], outcome["reason"]) == ("failover", "http 401")
    assert logged(outcome, timeout=0.3) == []  # a refused request is not a resolution


def test_a_session_number_connects_both_ways(dialplan, staff_client):
    masking_number_create(number="+918069000301", pooled=True)
    response = staff_client.post(
        "/api/v1/masking/sessions/",
        {"party_a": A, "party_b": B, "ttl_seconds": 300},
        content_type="application/json",
    )
    number = response.json()["masking_number"]
    there = dialplan.inbound_call(caller_id_number=A, call_to_number=number)
    back = dialplan.inbound_call(caller_id_number=B, call_to_number=number)
    assert (there["connected_to"], back["connected_to"]) == ("9876500002", "9845012345")
    staff_client.post(f"/api/v1/masking/sessions/{response.json()['id']}/close/")
    after = dialplan.inbound_call(caller_id_number=A, call_to_number=number)
    assert after["outcome"] == "failover"
    assert [entry.outcome for entry in logged(there, back, after)] == ["matched", "matched", "no_rule"]


def test_the_admin_places_a_simulated_call_and_shows_whom_it_reached(dialplan, smartflo, rule, admin_client):
    assert smartflo.base_url.startswith("http://127.0.0.1")
    url = reverse("admin:masking_maskingrule_simulate_call")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"caller": "98450 12345", "masking_number": "8069000111"})
    assert response.status_code == 200
    call = response.context["call"]
    assert (call.outcome, call.connected_to) == ("connected", "9876500002")
    page = response.content.decode()
    assert "Connected to" in page and "9876500002" in page
    assert [a.outcome for a in response.context["answers"]] == ["matched"]


def test_the_admin_shows_a_failover_and_its_reason(dialplan, smartflo, rule, admin_client):
    response = admin_client.post(
        reverse("admin:masking_maskingrule_simulate_call"), {"caller": "9812300003", "masking_number": "8069000111"}
    )
    assert response.context["call"].outcome == "failover"
    assert "http 404" in response.content.decode()


def test_the_admin_says_when_the_sandbox_is_not_running(settings, admin_client, db):
    settings.SMARTFLO_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    response = admin_client.post(
        reverse("admin:masking_maskingrule_simulate_call"), {"caller": A, "masking_number": MASKING}
    )
    assert response.status_code == 200
    assert "did not answer" in str(response.context["form"].non_field_errors())
