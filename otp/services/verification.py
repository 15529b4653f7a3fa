"""Verifying a code: constant time, single use, bounded attempts."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contactcenter.phones import mask
from otp.codes import code_matches
from otp.errors import OtpVerificationFailed
from otp.models import OtpChallenge, OtpState
from otp.services.transitions import otp_challenge_transition
from otp.validation import is_well_formed_code, phone_or_validation_error

logger = logging.getLogger(__name__)

#: How many recently superseded codes are checked to tell "superseded" from "wrong".
_SUPERSEDED_LOOKBACK = 5

_CLOSED = {
    OtpState.VERIFIED: OtpVerificationFailed.ALREADY_USED,
    OtpState.LOCKED: OtpVerificationFailed.LOCKED,
    OtpState.SUPERSEDED: OtpVerificationFailed.SUPERSEDED,
    OtpState.EXPIRED: OtpVerificationFailed.EXPIRED,
}


def otp_verify(*, phone: str, code: str, requested_by: AbstractBaseUser, now: datetime | None = None) -> OtpChallenge:
    """Accept `code` for the client's latest challenge to `phone`, once, or raise.

    Raises OtpVerificationFailed (400) with a stable code: otp_not_found, otp_invalid (with
    `attempts_left`), otp_locked, otp_expired, otp_superseded, otp_already_used or
    otp_not_delivered. Attempt counts and closing transitions are committed before raising.
    The row is locked, so two concurrent verifications of one code cannot both succeed.
    """
    e164 = phone_or_validation_error(phone)
    if not is_well_formed_code(code):
        raise ValidationError({"code": ["Enter the 6-digit code."]})
    with transaction.atomic():
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(phone=e164, requested_by=requested_by)
            .order_by("-created_at", "-pk")
            .first()
        )
        at = now or timezone.now()  # after the lock: a verification that waited sees its real time
        if challenge is None:
            failure: OtpVerificationFailed | None = OtpVerificationFailed(OtpVerificationFailed.NOT_FOUND)
        else:
            failure = _check(challenge, code, at)
    if failure is not None:
        logger.info("otp verify for %s refused: %s", mask(e164), failure.code)
        raise failure
    logger.info("otp %s verified for %s", challenge.pk, mask(e164))
    return challenge


def _check(challenge: OtpChallenge, code: str, at: datetime) -> OtpVerificationFailed | None:
    extra = {"id": str(challenge.pk)}
    if challenge.state in _CLOSED:
        return OtpVerificationFailed(_CLOSED[challenge.state], extra=extra)
    if not challenge.may_have_been_heard:
        return OtpVerificationFailed(OtpVerificationFailed.NOT_DELIVERED, extra=extra)
    if at >= challenge.expires_at:
        otp_challenge_transition(challenge, to=OtpState.EXPIRED, at=at)
        return OtpVerificationFailed(OtpVerificationFailed.EXPIRED, extra=extra)
    if code_matches(challenge_id=challenge.pk, code_hash=challenge.code_hash, code=code):
        otp_challenge_transition(challenge, to=OtpState.VERIFIED, at=at)
        return None

    challenge.attempts += 1
    if challenge.attempts >= settings.OTP_MAX_ATTEMPTS:
        otp_challenge_transition(challenge, to=OtpState.LOCKED, at=at, also_save=["attempts"])
        return OtpVerificationFailed(OtpVerificationFailed.LOCKED, extra=extra)
    challenge.save(update_fields=["attempts"])
    extra["attempts_left"] = settings.OTP_MAX_ATTEMPTS - challenge.attempts
    if _matches_a_superseded_code(challenge, code, at):
        return OtpVerificationFailed(OtpVerificationFailed.SUPERSEDED, extra=extra)
    return OtpVerificationFailed(OtpVerificationFailed.INVALID, extra=extra)


def _matches_a_superseded_code(challenge: OtpChallenge, code: str, at: datetime) -> bool:
    """Whether `code` is one of this client's recent, replaced codes for the phone.

    Such an attempt still counts against the current challenge; it only gets a clearer answer.
    """
    candidates = (
        OtpChallenge.objects.filter(
            phone=challenge.phone,
            requested_by_id=challenge.requested_by_id,
            state=OtpState.SUPERSEDED,
            created_at__lt=challenge.created_at,
            expires_at__gt=at,
        )
        .order_by("-created_at")
        .values_list("pk", "code_hash")[:_SUPERSEDED_LOOKBACK]
    )
    # Compare with every candidate (no early exit): the answer's timing does not depend on which.
    matches = [code_matches(challenge_id=pk, code_hash=digest, code=code) for pk, digest in candidates]
    return any(matches)
