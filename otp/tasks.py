"""Celery tasks: thin wrappers over otp.services. They take ids only, never a code."""

from __future__ import annotations

import time

from celery import Task, shared_task

from otp.services import otp_challenge_deliver, otp_challenges_expire


@shared_task(
    bind=True,
    name="otp.deliver",
    ignore_result=True,
    # Safe to run twice: the state committed before each provider request tells a second run
    # whether to add the lead, place the call, or (already `calling`) do nothing.
    acks_late=True,
    max_retries=None,  # bounded by the service: OTP_LEAD_MAX_TRIES and the challenge's expiry
    soft_time_limit=180,
    time_limit=210,
)
def deliver_otp(self: Task, challenge_id: str) -> None:
    """Deliver challenge `challenge_id`: add the broadcast lead, then place the call."""
    outcome = otp_challenge_deliver(challenge_id=challenge_id)
    # Run inline (CELERY_TASK_ALWAYS_EAGER), Celery would retry at once, ignoring the countdown.
    while outcome.retry_in is not None and self.request.is_eager:
        time.sleep(outcome.retry_in)
        outcome = otp_challenge_deliver(challenge_id=challenge_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@shared_task(name="otp.expire_stale", ignore_result=True, soft_time_limit=60, time_limit=90)
def expire_stale() -> None:
    """Every few minutes (beat): close challenges past their expiry, wiping any sealed code."""
    otp_challenges_expire()
