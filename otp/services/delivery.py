"""Delivering a code by voice: the broadcast lead, then the click-to-call-support call.

Each step is: lock the row and check where the challenge stands (one transaction), talk to
Smartflo with no transaction open, then record the result (another transaction). The state is
committed *before* each provider request, so a re-run of the task (a retry, a redelivered
message) always knows whether a call may already have been placed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from contactcenter.core.exceptions import provider_error
from contactcenter.phones import mask
from contactcenter.smartflo import Attempt, SmartfloClient, SmartfloError, client_from_settings
from otp.codes import SealBroken, unseal_code
from otp.models import FailureStep, OtpChallenge, OtpProviderRequest, OtpState
from otp.services.transitions import Failure, otp_challenge_transition

logger = logging.getLogger(__name__)

MISSING = "missing"
_HIDDEN = "******"


@dataclass(frozen=True)
class DeliveryOutcome:
    """Where a delivery run stopped: the challenge's state, and whether to run again later."""

    state: str
    retry_in: float | None = None


class _AttemptRecorder:
    """The client's `on_attempt` hook: one OtpProviderRequest row per HTTP attempt.

    While the lead step runs it knows the code, only to blank it out of anything Smartflo
    might echo back in an error message.
    """

    def __init__(self, challenge_id: str) -> None:
        self.challenge_id = challenge_id
        self.step = ""
        self._secret: str | None = None

    def begin(self, step: str, *, secret: str | None = None) -> None:
        self.step = step
        self._secret = secret

    def end(self) -> None:
        self._secret = None

    def scrub(self, text: str) -> str:
        return text.replace(self._secret, _HIDDEN) if self._secret else text

    def __call__(self, attempt: Attempt) -> None:
        error = attempt.error
        OtpProviderRequest.objects.create(
            challenge_id=self.challenge_id,
            step=self.step,
            operation=attempt.operation,
            method=attempt.method,
            path=attempt.path[:200],
            attempt=attempt.attempt,
            status=attempt.status,
            duration_ms=attempt.duration_ms,
            outcome="ok" if error is None else error.__class__.__name__,
            error_message=self.scrub(_provider_message(error))[:500] if error else "",
        )


def _provider_message(error: SmartfloError) -> str:
    return error.provider_message or error.message


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def _locked(challenge_id: str) -> OtpChallenge | None:
    return OtpChallenge.objects.select_for_update().filter(pk=challenge_id).first()


def _lead_step_bound(smartflo: SmartfloClient) -> timedelta:
    """The longest one lead step can take: every attempt timing out, every backoff at its cap."""
    attempts = smartflo.max_retries + 1
    return timedelta(
        seconds=float(settings.SMARTFLO_TIMEOUT) * attempts + smartflo.backoff_max * smartflo.max_retries + 5
    )


def _lead_retry_delay(tries: int) -> float:
    return min(float(settings.OTP_LEAD_RETRY_SECONDS) * 2 ** max(tries - 1, 0), 60.0)


def _fail(challenge: OtpChallenge, *, step: str, error: SmartfloError, message: str, at: datetime) -> DeliveryOutcome:
    failure = Failure(step=step, code=provider_error(error).code, message=message)
    otp_challenge_transition(challenge, to=OtpState.FAILED, at=at, failure=failure, also_save=["lead_in_flight_until"])
    logger.warning(
        "otp %s: %s step failed for %s (%s): %s", challenge.pk, step, challenge.masked_phone, failure.code, message
    )
    return DeliveryOutcome(OtpState.FAILED)


def otp_challenge_deliver(*, challenge_id: str, now: datetime | None = None) -> DeliveryOutcome:
    """Take the challenge as far as it can go: lead step (from `queued`), then call step.

    * Anything but `queued` or `lead_added` (superseded, expired, verified, already calling...)
      means there is nothing to do. An expired challenge is closed instead of delivered.
    * The lead step may run again (`retry_in`) after a transient failure, up to
      OTP_LEAD_MAX_TRIES runs; the client has already retried inside each run. A failure that
      will not go away, or the last try, ends in `failed` with Smartflo's message.
    * The call step runs at most once: the challenge is `calling` before the request leaves,
      and any failure, including "the request may have reached Smartflo", ends in `failed`.
    """
    recorder = _AttemptRecorder(str(challenge_id))
    with client_from_settings(on_attempt=recorder) as smartflo:
        outcome = _lead_step(str(challenge_id), smartflo=smartflo, recorder=recorder, now=now)
        if outcome is not None:
            return outcome
        return _call_step(str(challenge_id), smartflo=smartflo, recorder=recorder, now=now)


def _lead_step(
    challenge_id: str, *, smartflo: SmartfloClient, recorder: _AttemptRecorder, now: datetime | None
) -> DeliveryOutcome | None:
    """None when the lead is in place and the call step should follow."""
    with transaction.atomic():
        challenge = _locked(challenge_id)
        if challenge is None:
            logger.warning("otp %s: no such challenge, nothing delivered", challenge_id)
            return DeliveryOutcome(MISSING)
        at = _now(now)
        if challenge.state == OtpState.LEAD_ADDED:
            return None
        if challenge.state != OtpState.QUEUED:
            logger.info("otp %s: nothing to deliver in state %s", challenge_id, challenge.state)
            return DeliveryOutcome(challenge.state)
        if at >= challenge.expires_at:
            otp_challenge_transition(challenge, to=OtpState.EXPIRED, at=at)
            logger.info("otp %s: expired before delivery", challenge_id)
            return DeliveryOutcome(OtpState.EXPIRED)
        busy_until = (
            OtpChallenge.objects.filter(phone=challenge.phone, lead_in_flight_until__gt=at)
            .exclude(pk=challenge.pk)
            .aggregate(until=Max("lead_in_flight_until"))["until"]
        )
        if busy_until is not None:
            # An earlier, now superseded challenge's lead request is still in flight. Smartflo
            # keeps one lead per phone, so ours must land after it or the call would speak the
            # old code: wait for it (it clears the mark, or the mark runs out).
            wait = min(max((busy_until - at).total_seconds(), 0.2), 2.0)
            logger.info("otp %s: an earlier lead for %s is in flight, waiting", challenge_id, challenge.masked_phone)
            return DeliveryOutcome(OtpState.QUEUED, retry_in=wait)
        try:
            code = unseal_code(
                challenge_id=challenge.pk, code_sealed=challenge.code_sealed, code_hash=challenge.code_hash
            )
        except SealBroken as exc:
            otp_challenge_transition(
                challenge,
                to=OtpState.FAILED,
                at=at,
                failure=Failure(step=FailureStep.LEAD, code="code_unavailable", message=str(exc)),
            )
            logger.error("otp %s: %s", challenge_id, exc)
            return DeliveryOutcome(OtpState.FAILED)
        challenge.lead_tries += 1
        challenge.lead_in_flight_until = at + _lead_step_bound(smartflo)
        challenge.save(update_fields=["lead_tries", "lead_in_flight_until"])
        phone, tries = challenge.phone, challenge.lead_tries

    error: SmartfloError | None = None
    recorder.begin(FailureStep.LEAD, secret=code)
    try:
        smartflo.broadcast_lead(lead_id=settings.OTP_LEAD_ID, phone=phone, otp=code)
    except SmartfloError as exc:
        error = exc
    message = recorder.scrub(_provider_message(error)) if error is not None else ""
    recorder.end()
    del code

    with transaction.atomic():
        challenge = _locked(challenge_id)
        if challenge is None:
            return DeliveryOutcome(MISSING)
        at = _now(now)
        challenge.lead_in_flight_until = None
        if challenge.state != OtpState.QUEUED:
            # Superseded or closed while the request was in flight: stop before any call.
            challenge.save(update_fields=["lead_in_flight_until"])
            logger.info("otp %s: became %s during the lead step, no call placed", challenge_id, challenge.state)
            return DeliveryOutcome(challenge.state)
        if error is None:
            otp_challenge_transition(challenge, to=OtpState.LEAD_ADDED, at=at, also_save=["lead_in_flight_until"])
            logger.info("otp %s: lead added for %s", challenge_id, challenge.masked_phone)
            return None
        retry_in = _lead_retry_delay(tries)
        retryable = error.transient and tries < settings.OTP_LEAD_MAX_TRIES
        if retryable and at + timedelta(seconds=retry_in) < challenge.expires_at:
            challenge.save(update_fields=["lead_in_flight_until"])
            logger.warning(
                "otp %s: lead step failed (%s), try %d of %d again in %.1fs",
                challenge_id,
                error.__class__.__name__,
                tries,
                settings.OTP_LEAD_MAX_TRIES,
                retry_in,
            )
            return DeliveryOutcome(OtpState.QUEUED, retry_in=retry_in)
        return _fail(challenge, step=FailureStep.LEAD, error=error, message=message, at=at)


def _call_step(
    challenge_id: str, *, smartflo: SmartfloClient, recorder: _AttemptRecorder, now: datetime | None
) -> DeliveryOutcome:
    with transaction.atomic():
        challenge = _locked(challenge_id)
        if challenge is None:
            return DeliveryOutcome(MISSING)
        at = _now(now)
        if challenge.state != OtpState.LEAD_ADDED:
            return DeliveryOutcome(challenge.state)
        if at >= challenge.expires_at:
            otp_challenge_transition(challenge, to=OtpState.EXPIRED, at=at)
            logger.info("otp %s: expired before the call", challenge_id)
            return DeliveryOutcome(OtpState.EXPIRED)
        otp_challenge_transition(challenge, to=OtpState.CALLING, at=at)
        phone = challenge.phone

    error: SmartfloError | None = None
    recorder.begin(FailureStep.CALL)
    try:
        smartflo.support_call(customer_number=phone, api_key=settings.OTP_C2C_API_KEY)
    except SmartfloError as exc:
        error = exc
    recorder.end()

    with transaction.atomic():
        challenge = _locked(challenge_id)
        if challenge is None:
            return DeliveryOutcome(MISSING)
        at = _now(now)
        if challenge.state != OtpState.CALLING:
            logger.info("otp %s: became %s while the call was being placed", challenge_id, challenge.state)
            return DeliveryOutcome(challenge.state)
        if error is not None:
            return _fail(challenge, step=FailureStep.CALL, error=error, message=_provider_message(error), at=at)
        otp_challenge_transition(challenge, to=OtpState.DELIVERED, at=at)
        logger.info("otp %s: call placed to %s", challenge_id, mask(phone))
        return DeliveryOutcome(OtpState.DELIVERED)
