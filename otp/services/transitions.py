"""The one place that changes an OTP challenge's state."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from contactcenter.core.exceptions import ApplicationError
from otp.models import TRANSITIONS, OtpChallenge, OtpState

#: The timestamp each state sets when it is entered.
_STAMPS = {
    OtpState.LEAD_ADDED: "lead_added_at",
    OtpState.CALLING: "call_started_at",
    OtpState.DELIVERED: "delivered_at",
    OtpState.FAILED: "failed_at",
    OtpState.VERIFIED: "verified_at",
}


class IllegalTransition(ApplicationError):
    status_code = 409
    code = "otp_illegal_transition"


@dataclass(frozen=True)
class Failure:
    """Why a delivery step failed: the step, a stable code, and the provider's message."""

    step: str
    code: str
    message: str


def otp_challenge_transition(
    challenge: OtpChallenge,
    *,
    to: OtpState,
    at: datetime,
    failure: Failure | None = None,
    also_save: Iterable[str] = (),
) -> None:
    """Move `challenge` to state `to` and save it narrowly, or refuse an illegal move.

    The caller holds the row (`select_for_update`) inside the transaction that decides the move.
    Leaving `queued` always wipes the sealed code: only the lead step needs it.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("OTP state changes happen inside a transaction, on a locked row")
    current, target = str(challenge.state), str(to)
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"An OTP challenge in state {current!r} cannot become {target!r}.",
            extra={"state": current, "to": target},
        )
    fields = {"state", "state_changed_at", *also_save}
    challenge.state = to
    challenge.state_changed_at = at
    stamp = _STAMPS.get(to)
    if stamp:
        setattr(challenge, stamp, at)
        fields.add(stamp)
    if challenge.code_sealed:
        challenge.code_sealed = ""
        fields.add("code_sealed")
    if failure is not None:
        challenge.failure_step = failure.step
        challenge.failure_code = failure.code[:40]
        challenge.failure_message = failure.message[:500]
        fields.update({"failure_step", "failure_code", "failure_message"})
    challenge.save(update_fields=sorted(fields))
