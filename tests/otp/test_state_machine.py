"""The challenge state machine: an explicit map, one service applying it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from otp.models import TRANSITIONS, OtpChallenge, OtpState
from otp.services import IllegalTransition, otp_challenge_transition

pytestmark = pytest.mark.django_db

CLOSED = {OtpState.VERIFIED, OtpState.EXPIRED, OtpState.LOCKED, OtpState.SUPERSEDED}


def make(state: OtpState = OtpState.QUEUED) -> OtpChallenge:
    now = timezone.now()
    return OtpChallenge.objects.create(
        phone="+919876543210",
        state=state,
        code_hash="0" * 64,
        code_sealed="ab" * 6,
        created_at=now,
        expires_at=now + timedelta(minutes=5),
    )


def test_every_state_has_an_entry_and_closed_states_are_final():
    assert set(TRANSITIONS) == set(OtpState.values)
    for state in CLOSED:
        assert TRANSITIONS[state] == frozenset()


def test_the_delivery_path():
    assert OtpState.LEAD_ADDED in TRANSITIONS[OtpState.QUEUED]
    assert OtpState.CALLING in TRANSITIONS[OtpState.LEAD_ADDED]
    assert OtpState.DELIVERED in TRANSITIONS[OtpState.CALLING]
    assert OtpState.CALLING not in TRANSITIONS[OtpState.QUEUED]  # never a call without the lead
    assert OtpState.DELIVERED not in TRANSITIONS[OtpState.LEAD_ADDED]


def test_an_illegal_transition_is_refused_naming_the_current_state():
    challenge = make(OtpState.VERIFIED)
    with pytest.raises(IllegalTransition) as refused:
        otp_challenge_transition(challenge, to=OtpState.DELIVERED, at=timezone.now())
    assert "'verified'" in refused.value.message
    challenge.refresh_from_db()
    assert challenge.state == OtpState.VERIFIED


def test_a_transition_stamps_its_time_and_leaving_queued_wipes_the_sealed_code():
    challenge = make()
    at = timezone.now()
    otp_challenge_transition(challenge, to=OtpState.LEAD_ADDED, at=at)
    challenge.refresh_from_db()
    assert (challenge.state, challenge.lead_added_at, challenge.state_changed_at) == (OtpState.LEAD_ADDED, at, at)
    assert challenge.code_sealed == ""


def test_an_invalid_state_is_refused_by_the_database():
    from django.db import IntegrityError, transaction

    challenge = make()
    with pytest.raises(IntegrityError), transaction.atomic():
        OtpChallenge.objects.filter(pk=challenge.pk).update(state="teleported")
