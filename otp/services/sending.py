"""Sending a code: throttle, supersede the phone's earlier code, store the new one, enqueue."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from contactcenter.core.locks import advisory_xact_locks
from contactcenter.phones import mask
from otp.codes import generate_code, hash_code, seal_code
from otp.errors import OtpNotConfigured, OtpThrottled
from otp.models import FailureStep, OtpChallenge, OtpState, verifiable_q
from otp.services.transitions import Failure, otp_challenge_transition
from otp.validation import phone_or_validation_error

logger = logging.getLogger(__name__)

MAX_TTL_SECONDS = 600


def otp_ttl() -> timedelta:
    """OTP_TTL_SECONDS, never more than ten minutes."""
    return timedelta(seconds=min(max(int(settings.OTP_TTL_SECONDS), 1), MAX_TTL_SECONDS))


@dataclass(frozen=True)
class _Wait:
    seconds: float
    scope: str
    message: str


def _serialize_sends(*, client_id: int, phone: str) -> None:
    """Make concurrent sends for one client or one phone count the same rows one after another
    (advisory locks on both, the client's before the phone's: `core/locks.py`)."""
    advisory_xact_locks("otp.send", f"client:{client_id}", f"phone:{phone}")


def _window_wait(created: list[datetime], *, limit: int, window: timedelta, now: datetime) -> float | None:
    """Seconds until fewer than `limit` of the `created` times (oldest first) fall in the window."""
    if limit <= 0 or len(created) < limit:
        return None
    return (created[len(created) - limit] + window - now).total_seconds()


def _throttle_check(*, phone: str, client: AbstractBaseUser, now: datetime) -> None:
    window = timedelta(seconds=settings.OTP_SEND_WINDOW_SECONDS)
    cooldown = timedelta(seconds=settings.OTP_RESEND_COOLDOWN_SECONDS)
    recent = OtpChallenge.objects.filter(created_at__gt=now - window).order_by("created_at")
    waits: list[_Wait] = []

    phone_times = list(recent.filter(phone=phone).values_list("created_at", flat=True))
    wait = _window_wait(phone_times, limit=settings.OTP_SEND_LIMIT_PER_PHONE, window=window, now=now)
    if wait is not None:
        waits.append(_Wait(wait, "phone", "Too many codes were sent to this number recently."))
    last_for_phone = (
        OtpChallenge.objects.filter(phone=phone).order_by("-created_at").values_list("created_at", flat=True)
    ).first()
    if last_for_phone is not None and last_for_phone + cooldown > now:
        waits.append(
            _Wait((last_for_phone + cooldown - now).total_seconds(), "phone_cooldown", "A code was just sent.")
        )

    client_limit = settings.OTP_SEND_LIMIT_PER_CLIENT
    if client_limit > 0:
        client_rows = recent.filter(requested_by=client)
        count = client_rows.count()
        if count >= client_limit:
            oldest_counted = client_rows.values_list("created_at", flat=True)[count - client_limit]
            waits.append(
                _Wait((oldest_counted + window - now).total_seconds(), "client", "This client sent too many codes.")
            )

    if waits:
        longest = max(waits, key=lambda w: w.seconds)
        raise OtpThrottled(f"{longest.message} Try again later.", retry_after=longest.seconds, scope=longest.scope)


def _supersede_open_challenges(*, phone: str, at: datetime) -> int:
    """Close every earlier code of the phone that could still be entered (any client's).

    Smartflo keeps one lead per phone in the OTP list, so only the newest code can be the one
    spoken: accepting an older one would be wrong as well as weaker.
    """
    earlier = OtpChallenge.objects.select_for_update().filter(verifiable_q(), phone=phone).order_by("pk")
    count = 0
    for challenge in earlier:
        otp_challenge_transition(challenge, to=OtpState.SUPERSEDED, at=at)
        count += 1
    return count


def otp_send(*, phone: str, requested_by: AbstractBaseUser, now: datetime | None = None) -> OtpChallenge:
    """Create a challenge for `phone` and enqueue its delivery once the transaction commits.

    Raises ValidationError for a number OTP calls cannot go to, OtpThrottled (429) when the
    phone or the client has had too many codes, OtpNotConfigured (503) when OTP is off. The
    code itself is never returned: it leaves this process only inside the lead request to
    Smartflo.
    """
    e164 = phone_or_validation_error(phone)
    if not (settings.OTP_LEAD_ID and settings.OTP_C2C_API_KEY):
        # Refused up front: a challenge that can only fail at Smartflo helps nobody.
        raise OtpNotConfigured()
    with transaction.atomic():
        _serialize_sends(client_id=requested_by.pk, phone=e164)
        # Read the clock once the locks are held: a send that waited must count (and be later
        # than) the one it waited for.
        at = now or timezone.now()
        _throttle_check(phone=e164, client=requested_by, now=at)
        superseded = _supersede_open_challenges(phone=e164, at=at)
        challenge_id = uuid.uuid4()
        code = generate_code()
        challenge = OtpChallenge.objects.create(
            id=challenge_id,
            phone=e164,
            requested_by=requested_by,
            state=OtpState.QUEUED,
            code_hash=hash_code(challenge_id, code),
            code_sealed=seal_code(challenge_id, code),
            created_at=at,
            state_changed_at=at,
            expires_at=at + otp_ttl(),
        )
        del code
        transaction.on_commit(partial(_enqueue_delivery, str(challenge_id)))
    logger.info(
        "otp %s queued for %s%s",
        challenge_id,
        mask(e164),
        f" (superseding {superseded} earlier)" if superseded else "",
    )
    return challenge


def _enqueue_delivery(challenge_id: str) -> None:
    """on_commit: hand the challenge's id (and nothing else) to the delivery task."""
    from otp.tasks import deliver_otp

    options = {"queue": settings.OTP_TASK_QUEUE} if settings.OTP_TASK_QUEUE else {}
    try:
        deliver_otp.apply_async(args=[challenge_id], **options)
    except (BrokerError, OSError) as exc:
        logger.error("otp %s: the delivery task could not be queued (%s)", challenge_id, exc.__class__.__name__)
        _fail_unqueued(challenge_id, f"The task queue is unavailable ({exc.__class__.__name__}).")


def _fail_unqueued(challenge_id: str, message: str) -> None:
    with transaction.atomic():
        challenge = OtpChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if challenge is not None and challenge.state == OtpState.QUEUED:
            otp_challenge_transition(
                challenge,
                to=OtpState.FAILED,
                at=timezone.now(),
                failure=Failure(step=FailureStep.QUEUE, code="queue_unavailable", message=message),
            )
