"""The call status state machine: one map of allowed moves, one function that applies them."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from calls.models import CallStatus, OutboundCall
from contactcenter.core.exceptions import ApplicationError

S = CallStatus
_AFTER_ORIGINATING = {
    S.AGENT_RINGING,
    S.AGENT_ANSWERED,
    S.CUSTOMER_RINGING,
    S.IN_PROGRESS,
    S.COMPLETED,
    S.MISSED,
    S.FAILED,
}

#: Events may be lost, so a call may skip ahead; it never moves back. `unknown` (a timeout while
#: placing) is left as soon as any event says what really happened.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.ORIGINATING, S.FAILED, S.UNKNOWN}),
    S.ORIGINATING: frozenset(_AFTER_ORIGINATING | {S.UNKNOWN}),
    S.UNKNOWN: frozenset(_AFTER_ORIGINATING),
    S.AGENT_RINGING: frozenset(_AFTER_ORIGINATING - {S.AGENT_RINGING}),
    S.AGENT_ANSWERED: frozenset({S.CUSTOMER_RINGING, S.IN_PROGRESS, S.COMPLETED, S.MISSED, S.FAILED}),
    S.CUSTOMER_RINGING: frozenset({S.IN_PROGRESS, S.COMPLETED, S.MISSED, S.FAILED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED, S.FAILED}),
    S.COMPLETED: frozenset(),
    S.MISSED: frozenset(),
    S.FAILED: frozenset(),
}


class IllegalTransition(ApplicationError):
    status_code = 409
    code = "illegal_transition"


def call_can_transition(current: str, target: str) -> bool:
    return target in ALLOWED_TRANSITIONS.get(current, frozenset())


@transaction.atomic
def call_transition(*, call: OutboundCall, to: str, provider_message: str | None = None) -> OutboundCall:
    """Move `call` to status `to`, or raise IllegalTransition naming the current status.

    Re-reads the row under a lock, so a webhook and a request racing on one call apply in turn.
    """
    locked = OutboundCall.objects.select_for_update().get(pk=call.pk)
    if not call_can_transition(locked.status, to):
        raise IllegalTransition(
            f"A call that is {locked.get_status_display().lower()} cannot become {S(to).label.lower()}.",
            extra={"current": locked.status, "requested": to},
        )
    locked.status = to
    fields = ["status", "updated_at"]
    now = timezone.now()
    # Click to call rings the agent first: a customer rung or answered means the agent answered,
    # even when Smartflo's event for it was lost or came late.
    if to in (S.AGENT_ANSWERED, S.CUSTOMER_RINGING, S.IN_PROGRESS) and locked.agent_answered_at is None:
        locked.agent_answered_at = now
        fields.append("agent_answered_at")
    if to == S.IN_PROGRESS and locked.answered_at is None:
        locked.answered_at = now
        fields.append("answered_at")
    if to == S.IN_PROGRESS and locked.cancelled_at is not None:  # answered just as it was called off
        locked.cancelled_at = None
        fields.append("cancelled_at")
    if to in (S.COMPLETED, S.MISSED, S.FAILED) and locked.ended_at is None:
        locked.ended_at = now
        fields.append("ended_at")
    if provider_message is not None:
        locked.provider_message = provider_message[:500]
        fields.append("provider_message")
    locked.save(update_fields=fields)
    for field in {*fields}:
        setattr(call, field, getattr(locked, field))
    return call
