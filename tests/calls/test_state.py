"""The call status state machine: every allowed move applies, every other move is refused."""

import itertools

import pytest

from calls.models import CallStatus, OutboundCall
from calls.services import IllegalTransition, call_transition
from calls.services.state import ALLOWED_TRANSITIONS

pytestmark = pytest.mark.django_db

PAIRS = list(itertools.product(CallStatus.values, CallStatus.values))


@pytest.fixture
def call(sandbox_agents, make_user):
    return OutboundCall.objects.create(
        requested_by=make_user("u"), agent=sandbox_agents["asha"], destination="+919876543210"
    )


@pytest.mark.parametrize(("start", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_matrix(call, start, target):
    OutboundCall.objects.filter(pk=call.pk).update(status=start)
    call.refresh_from_db()
    if target in ALLOWED_TRANSITIONS[start]:
        call_transition(call=call, to=target)
        call.refresh_from_db()
        assert call.status == target
    else:
        with pytest.raises(IllegalTransition) as info:
            call_transition(call=call, to=target)
        assert info.value.extra == {"current": start, "requested": target}
        call.refresh_from_db()
        assert call.status == start


def test_final_states_are_absorbing():
    for final in (CallStatus.COMPLETED, CallStatus.MISSED, CallStatus.FAILED):
        assert ALLOWED_TRANSITIONS[final] == frozenset()


def test_no_state_moves_backwards_to_ringing_after_answer():
    for later in (CallStatus.AGENT_ANSWERED, CallStatus.CUSTOMER_RINGING, CallStatus.IN_PROGRESS):
        assert CallStatus.AGENT_RINGING not in ALLOWED_TRANSITIONS[later]


def test_timestamps_are_set_on_the_way(call):
    for step in (
        CallStatus.ORIGINATING,
        CallStatus.AGENT_RINGING,
        CallStatus.AGENT_ANSWERED,
        CallStatus.IN_PROGRESS,
        CallStatus.COMPLETED,
    ):
        call_transition(call=call, to=step)
    call.refresh_from_db()
    assert call.agent_answered_at <= call.answered_at <= call.ended_at


def test_a_customer_rung_means_the_agent_answered_even_without_its_event(call):
    """Click to call rings the agent first: a lost `agent_answered` event still leaves the call
    marked as answered by the agent, or a missed customer would be listed as 'not dialled'."""
    for step in (CallStatus.ORIGINATING, CallStatus.AGENT_RINGING, CallStatus.CUSTOMER_RINGING, CallStatus.MISSED):
        call_transition(call=call, to=step)
    call.refresh_from_db()
    assert call.agent_answered_at is not None and call.answered_at is None


def test_a_call_the_agent_did_not_answer_stays_unanswered_by_them(call):
    for step in (CallStatus.ORIGINATING, CallStatus.AGENT_RINGING, CallStatus.MISSED):
        call_transition(call=call, to=step)
    call.refresh_from_db()
    assert call.agent_answered_at is None
