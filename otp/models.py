"""Voice OTP challenges and the provider requests made to deliver them.

A challenge never holds its code in clear text: `code_hash` is an HMAC-SHA256 digest (see
`otp.codes`), and `code_sealed` holds the code encrypted under a per-challenge keystream only
while the lead step still needs it (state `queued`); every transition out of `queued` wipes it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contactcenter.phones import mask


class OtpState(models.TextChoices):
    QUEUED = "queued", "queued"
    LEAD_ADDED = "lead_added", "lead added"
    CALLING = "calling", "calling"
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed"
    VERIFIED = "verified", "verified"
    EXPIRED = "expired", "expired"
    LOCKED = "locked", "locked"
    SUPERSEDED = "superseded", "superseded"


#: Where a challenge can go from each state. `otp.services.otp_challenge_transition` is the only
#: code that changes `state`, and it refuses anything not listed here.
#:
#: queued -> lead_added -> calling -> delivered is the delivery; `failed` ends it early. The four
#: closing states can be reached from any state in which the code may still be entered.
#: `failed -> verified/locked/expired/superseded` exists for one case only: the click-to-call
#: request timed out, so the call may have been placed and the code heard (failure_code
#: `provider_unknown_outcome`); the services never verify a definitely failed challenge.
_CLOSING = frozenset({OtpState.VERIFIED, OtpState.EXPIRED, OtpState.LOCKED, OtpState.SUPERSEDED})
TRANSITIONS: dict[str, frozenset[str]] = {
    OtpState.QUEUED: frozenset({OtpState.LEAD_ADDED, OtpState.FAILED}) | _CLOSING,
    OtpState.LEAD_ADDED: frozenset({OtpState.CALLING, OtpState.FAILED}) | _CLOSING,
    OtpState.CALLING: frozenset({OtpState.DELIVERED, OtpState.FAILED}) | _CLOSING,
    OtpState.DELIVERED: _CLOSING,
    OtpState.FAILED: _CLOSING,
    OtpState.VERIFIED: frozenset(),
    OtpState.EXPIRED: frozenset(),
    OtpState.LOCKED: frozenset(),
    OtpState.SUPERSEDED: frozenset(),
}

#: States in which the delivery is still running (the task acts only on the first two).
DELIVERY_STATES = frozenset({OtpState.QUEUED, OtpState.LEAD_ADDED, OtpState.CALLING})

#: failure_code of a click-to-call request whose outcome is unknown (see TRANSITIONS).
CALL_OUTCOME_UNKNOWN = "provider_unknown_outcome"


def verifiable_q() -> Q:
    """Challenges whose code may have reached the phone and that are not closed yet."""
    return Q(state__in=[OtpState.QUEUED, OtpState.LEAD_ADDED, OtpState.CALLING, OtpState.DELIVERED]) | Q(
        state=OtpState.FAILED, failure_code=CALL_OUTCOME_UNKNOWN
    )


class FailureStep(models.TextChoices):
    QUEUE = "queue", "queueing the task"
    LEAD = "lead", "adding the broadcast lead"
    CALL = "call", "placing the call"


class OtpChallenge(models.Model):
    """One code sent to one phone, and where its delivery and verification stand."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone = models.CharField(max_length=16, help_text="E.164 (+919876543210).")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="otp_challenges",
        help_text="The API client that asked for the code.",
    )
    state = models.CharField(max_length=16, choices=OtpState.choices, default=OtpState.QUEUED)
    code_hash = models.CharField(max_length=64, editable=False)
    code_sealed = models.CharField(max_length=32, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Wrong codes entered.")
    lead_tries = models.PositiveSmallIntegerField(default=0, help_text="Runs of the lead step.")
    lead_in_flight_until = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    state_changed_at = models.DateTimeField(default=timezone.now)
    lead_added_at = models.DateTimeField(null=True, blank=True)
    call_started_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)

    failure_step = models.CharField(max_length=8, choices=FailureStep.choices, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["phone", "created_at"], name="otp_phone_created"),
            models.Index(fields=["requested_by", "created_at"], name="otp_client_created"),
            models.Index(fields=["state", "expires_at"], name="otp_state_expires"),
            models.Index(fields=["created_at"], name="otp_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=OtpState.values), name="otp_state_valid"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="otp_expires_after_created"
            ),
        ]

    def __str__(self) -> str:
        return f"OTP to {self.masked_phone} ({self.state})"

    @property
    def masked_phone(self) -> str:
        return mask(self.phone)

    @property
    def may_have_been_heard(self) -> bool:
        """True unless the delivery definitely failed before anything was spoken."""
        return self.state != OtpState.FAILED or self.failure_code == CALL_OUTCOME_UNKNOWN

    def seconds_after_creation(self, moment: datetime | None) -> float | None:
        return None if moment is None else (moment - self.created_at).total_seconds()

    @property
    def lead_seconds(self) -> float | None:
        return self.seconds_after_creation(self.lead_added_at)

    @property
    def delivered_seconds(self) -> float | None:
        return self.seconds_after_creation(self.delivered_at)

    @property
    def verified_seconds(self) -> float | None:
        return self.seconds_after_creation(self.verified_at)


class OtpProviderRequest(models.Model):
    """One HTTP attempt at Smartflo on behalf of a challenge: the audit trail of its delivery."""

    challenge = models.ForeignKey(OtpChallenge, on_delete=models.CASCADE, related_name="provider_requests")
    step = models.CharField(max_length=8, choices=FailureStep.choices)
    operation = models.CharField(max_length=32)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    attempt = models.PositiveSmallIntegerField()
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status; empty if none.")
    duration_ms = models.FloatField()
    outcome = models.CharField(max_length=40, help_text='"ok" or the error class.')
    error_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status or '-'} {self.outcome}"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"
