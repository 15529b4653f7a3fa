"""Calls whose events never came are settled from Smartflo's live calls and call records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calls.models import CallRecord, CallStatus, OutboundCall
from calls.services.reconcile import calls_reconcile

pytestmark = pytest.mark.django_db


def old_call(asha, *, status=CallStatus.ORIGINATING, minutes=30, **fields):
    call = OutboundCall.objects.create(
        requested_by=asha.user, agent=asha, destination="+919876543210", status=status, **fields
    )
    OutboundCall.objects.filter(pk=call.pk).update(requested_at=timezone.now() - timedelta(minutes=minutes))
    return call


def record(call, status):
    now = timezone.now()
    return CallRecord.objects.create(
        call_id=call.call_id or "1700000000.9",
        custom_identifier=str(call.custom_identifier),
        status=status,
        direction="outbound",
        started_at=now,
        first_synced_at=now,
        synced_at=now,
    )


def test_a_record_settles_a_call_whose_events_were_lost(asha, smartflo):
    answered = old_call(asha, call_id="1700000000.1")
    missed = old_call(asha, status=CallStatus.UNKNOWN, call_id="1700000000.2")
    record(answered, "answered")
    record(missed, "missed")
    result = calls_reconcile()
    assert (result.checked, result.settled) == (2, 2)
    answered.refresh_from_db()
    missed.refresh_from_db()
    assert (answered.status, missed.status) == (CallStatus.COMPLETED, CallStatus.MISSED)
    assert "call record" in answered.provider_message


def test_a_call_smartflo_still_lists_live_is_left_alone(asha, smartflo):
    smartflo.set_scenario("9876543210", hold=True)
    call_id = smartflo.click_to_call(agent_number="1001", destination_number="9876543210")
    smartflo.wait_for_state(call_id, "in_progress")
    call = old_call(asha, status=CallStatus.IN_PROGRESS, call_id=call_id)
    assert calls_reconcile().still_live == 1
    call.refresh_from_db()
    assert call.status == CallStatus.IN_PROGRESS


def test_nothing_for_an_hour_means_failed_and_recent_calls_wait(asha, smartflo):
    ancient = old_call(asha, minutes=90)
    recent = old_call(asha, minutes=20)
    fresh = old_call(asha, minutes=1)
    result = calls_reconcile()
    assert (result.checked, result.settled) == (2, 1)
    for call, expected in (
        (ancient, CallStatus.FAILED),
        (recent, CallStatus.ORIGINATING),
        (fresh, CallStatus.ORIGINATING),
    ):
        call.refresh_from_db()
        assert call.status == expected


def test_nothing_stale_means_no_request(asha, smartflo):
    smartflo.clear_requests()
    assert calls_reconcile().checked == 0
    assert smartflo.requests(path="/v1/live_calls") == []


def test_beat_runs_it(settings):
    assert settings.CELERY_BEAT_SCHEDULE["reconcile-calls"]["task"] == "calls.reconcile_calls"
