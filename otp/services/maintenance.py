"""Housekeeping: close challenges that ran out of time without anyone touching them."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from otp.models import TRANSITIONS, OtpChallenge, OtpState, verifiable_q

logger = logging.getLogger(__name__)

_EXPIRABLE = [state for state, targets in TRANSITIONS.items() if OtpState.EXPIRED in targets]


def otp_challenges_expire(*, now: datetime | None = None) -> int:
    """Mark every open challenge past its expiry `expired` and wipe any sealed code it still has.

    Verification and the delivery task expire challenges as they meet them; this catches the
    rest (e.g. a task that never ran), so no sealed code outlives its challenge. One UPDATE whose
    WHERE clause re-checks the state, so it cannot overwrite a transition made meanwhile; every
    state it selects allows `-> expired` in TRANSITIONS. A lead request still in flight keeps its
    `lead_in_flight_until` mark: a later send for the phone must still wait for it.
    """
    at = now or timezone.now()
    count = OtpChallenge.objects.filter(verifiable_q(), state__in=_EXPIRABLE, expires_at__lte=at).update(
        state=OtpState.EXPIRED, state_changed_at=at, code_sealed=""
    )
    if count:
        logger.info("otp: %d challenge(s) expired", count)
    return count
