from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class CallStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ORIGINATING = "originating", "Originating"
    AGENT_RINGING = "agent_ringing", "Agent ringing"
    AGENT_ANSWERED = "agent_answered", "Agent answered"
    CUSTOMER_RINGING = "customer_ringing", "Customer ringing"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"


LIVE_STATUSES = frozenset(
    {
        CallStatus.REQUESTED,
        CallStatus.ORIGINATING,
        CallStatus.AGENT_RINGING,
        CallStatus.AGENT_ANSWERED,
        CallStatus.CUSTOMER_RINGING,
        CallStatus.IN_PROGRESS,
    }
)
FINAL_STATUSES = frozenset({CallStatus.COMPLETED, CallStatus.MISSED, CallStatus.FAILED})


class Disposition(models.Model):
    """The outcomes an agent can pick after a call ("Interested", "Call back later" ...).

    Edited by admins; the list is what the agent workspace offers.
    """

    label = models.CharField(max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class OutboundCall(models.Model):
    """A click-to-call placed through Smartflo on behalf of an agent.

    `custom_identifier` is ours (sent to Smartflo, echoed in webhooks); `call_id` is Smartflo's,
    known once Smartflo returns it or an event carries it. Status changes go through
    calls.services.call_transition only.
    """

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outbound_calls")
    agent = models.ForeignKey("agents.Agent", on_delete=models.PROTECT, related_name="outbound_calls")
    destination = models.CharField(max_length=16, help_text="E.164")
    caller_id = models.CharField(max_length=16, blank=True)
    custom_identifier = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call_id = models.CharField("Smartflo call id", max_length=64, null=True, blank=True, unique=True)
    status = models.CharField(max_length=20, choices=CallStatus.choices, default=CallStatus.REQUESTED)
    provider_message = models.CharField(max_length=500, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    agent_answered_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True, help_text="When the customer answered.")
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    billsec = models.PositiveIntegerField(null=True, blank=True)
    hangup_cause = models.CharField(max_length=80, blank=True)
    recording_url = models.URLField(max_length=500, blank=True)
    transferred_to = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    disposition = models.ForeignKey(Disposition, null=True, blank=True, on_delete=models.PROTECT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["agent", "-requested_at"]),
            models.Index(fields=["status", "-requested_at"]),
            models.Index(fields=["destination", "-requested_at"]),
        ]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class ProviderRequest(models.Model):
    """One HTTP attempt to Smartflo made for a call: the audit trail for "I was called twice"."""

    outbound_call = models.ForeignKey(
        OutboundCall, null=True, blank=True, on_delete=models.CASCADE, related_name="provider_requests"
    )
    operation = models.CharField(max_length=40)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=200)
    attempt = models.PositiveSmallIntegerField(default=1)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.operation} -> {self.status_code or self.error}"


class IdempotentRequest(models.Model):
    """The first answer to an API request carrying an `Idempotency-Key`, replayed on repeats."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="unique_idempotency_key_per_user")]

    def __str__(self) -> str:
        return f"{self.key} -> {self.status_code}"


class CallEvent(models.Model):
    """Every webhook Smartflo sent, stored raw, whether it changed anything or not."""

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    outbound_call = models.ForeignKey(
        OutboundCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    call_id = models.CharField(max_length=64, blank=True, db_index=True)
    custom_identifier = models.CharField(max_length=64, blank=True)
    event = models.CharField(max_length=40, blank=True)
    call_status = models.CharField(max_length=40, blank=True)
    direction = models.CharField(max_length=20, blank=True)
    fingerprint = models.CharField(max_length=64, db_index=True)
    duplicate = models.BooleanField(default=False)
    applied = models.BooleanField(default=False, help_text="Whether it changed the call.")
    outcome = models.CharField(max_length=200, blank=True)
    payload = models.JSONField()

    class Meta:
        ordering = ["received_at", "pk"]

    def __str__(self) -> str:
        return f"{self.event or self.call_status} {self.call_id}"


class RingingAlert(models.Model):
    """An incoming call ringing at an agent: drives the pop-up on that agent's open pages.

    Cleared (in every tab, since tabs poll) once the call is answered, ends or the agent
    dismisses it.
    """

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="ringing_alerts")
    call_id = models.CharField(max_length=64)
    caller_number = models.CharField(max_length=20, blank=True)
    direction = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_reason = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "call_id"], name="one_alert_per_agent_call")]
        indexes = [models.Index(fields=["agent", "cleared_at"])]

    def __str__(self) -> str:
        return f"ringing {self.call_id} at {self.agent_id}"
