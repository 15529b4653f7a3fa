from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# An answered inbound call whose hang-up event never came stops counting as "on a call" then.
INBOUND_ON_CALL_LIMIT = timedelta(hours=4)


def wrap_up_version(note: str, disposition_id: int | None) -> str:
    """A short fingerprint of a call's note and disposition: a wrap-up form carries the one it
    was opened with, so a save over a note changed elsewhere since is refused, not lost."""
    return hashlib.sha256(f"{disposition_id or ''}\n{note}".encode()).hexdigest()[:16]


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


def held_by(agent) -> models.Q:
    """OutboundCalls `agent` has now: transferred to them, or theirs and not passed on to a colleague."""
    return models.Q(transferred_to=agent) | models.Q(agent=agent, transferred_to__isnull=True)


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
    cancelled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was hung up from the application before the customer answered: called off, not missed.",
    )
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
            models.Index(fields=["requested_at"], name="outboundcall_requested"),  # the retention purge
        ]

    def __str__(self) -> str:
        return f"call {self.pk} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def cancelled(self) -> bool:
        """Hung up from the application before the customer answered, and over: called off,
        whatever Smartflo's event calls it (it says missed)."""
        return self.cancelled_at is not None and self.answered_at is None and not self.is_live

    @property
    def shown_status(self) -> str:
        """The status for a badge's class: `cancelled`, else the status."""
        return "cancelled" if self.cancelled else self.status

    @property
    def shown_status_label(self) -> str:
        return "Cancelled" if self.cancelled else self.get_status_display()

    @property
    def wrap_up_version(self) -> str:
        return wrap_up_version(self.note, self.disposition_id)

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
        indexes = [models.Index(fields=["created_at"], name="idempotentrequest_created")]  # the retention purge

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
        constraints = [
            # Two deliveries of one event racing each other: only one may count as the original.
            models.UniqueConstraint(
                fields=["fingerprint"], condition=models.Q(duplicate=False), name="one_original_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event or self.call_status} {self.call_id}"


class RingingAlert(models.Model):
    """An incoming call offered to an agent: the pop-up on their open pages while it rings, the
    call they are on once they answer, and their wrap-up of it (note and disposition).

    Cleared (in every tab, since tabs poll) once the call is answered, ends or the agent
    dismisses it. Once answered, `answered_at` until `ended_at` shows the agent is on that call;
    from then on the agent can write its note (during the call or after).
    """

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="ringing_alerts")
    call_id = models.CharField(max_length=64)
    caller_number = models.CharField(max_length=20, blank=True)
    direction = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_reason = models.CharField(max_length=40, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    disposition = models.ForeignKey(Disposition, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    # Whom the agent passed the call on to: their part ended then (the colleague gets their own row).
    transferred_to = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "call_id"], name="one_alert_per_agent_call")]
        indexes = [
            models.Index(fields=["agent", "cleared_at"]),
            models.Index(fields=["started_at"], name="ringingalert_started"),  # the retention purge
            models.Index(fields=["disposition"], name="ringingalert_disposition"),  # built online (0008)
            models.Index(fields=["caller_number", "-answered_at"], name="ringingalert_caller"),  # history
            models.Index(fields=["call_id"], name="ringingalert_call"),  # call events, the export (0009)
        ]

    def __str__(self) -> str:
        return f"ringing {self.call_id} at {self.agent_id}"

    @property
    def wrap_up_version(self) -> str:
        return wrap_up_version(self.note, self.disposition_id)

    @property
    def is_live(self) -> bool:
        """The agent answered and no hang-up has come (a lost one stops counting after 4 hours)."""
        return (
            self.answered_at is not None
            and self.ended_at is None
            and self.answered_at >= timezone.now() - INBOUND_ON_CALL_LIMIT
        )


# --- Call records (CDRs) synced from Smartflo ------------------------------------------------


class CallRecordStatus(models.TextChoices):
    ANSWERED = "answered", "Answered"
    MISSED = "missed", "Missed"


class CallDirection(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class CallRecord(models.Model):
    """One Smartflo call detail record (`GET /call/records`), keyed by Smartflo's `call_id`.

    Written only by calls.services.records (a bulk upsert per page): a blank value from Smartflo
    never overwrites a known one, so a recording URL that arrived once stays. `raw` is the last
    payload exactly as received. Times are aware (Smartflo's naive IST converted at the client).
    """

    call_id = models.CharField("Smartflo call id", max_length=64, unique=True)
    provider_id = models.BigIntegerField("Smartflo record id", null=True, blank=True)
    uuid = models.CharField(max_length=64, blank=True)
    direction = models.CharField(max_length=16, choices=CallDirection.choices, blank=True)
    status = models.CharField(max_length=16, choices=CallRecordStatus.choices, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    call_duration = models.PositiveIntegerField(default=0, help_text="Seconds, ringing included.")
    answered_seconds = models.PositiveIntegerField(default=0, help_text="Talk time in seconds.")
    minutes_consumed = models.PositiveIntegerField(default=0)
    agent = models.ForeignKey(
        "agents.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="call_records"
    )
    agent_smartflo_id = models.CharField(max_length=64, blank=True)
    agent_name = models.CharField(max_length=150, blank=True)
    agent_number = models.CharField(max_length=20, blank=True)
    client_number = models.CharField(max_length=20, blank=True, help_text="E.164 when it parses.")
    did_number = models.CharField(max_length=20, blank=True)
    destination = models.CharField(max_length=150, blank=True)
    hangup_cause = models.CharField(max_length=80, blank=True)
    recording_url = models.CharField(max_length=2000, blank=True)
    dtmf_input = models.CharField(max_length=64, blank=True)
    broadcast_id = models.CharField(max_length=64, blank=True)
    services = models.CharField(max_length=200, blank=True, help_text="Comma-separated.")
    department = models.CharField(max_length=200, blank=True, help_text="Comma-separated.")
    missed_agents = models.JSONField(null=True, blank=True, help_text='[{"name", "number"}]')
    notes = models.TextField(blank=True)
    contact_name = models.CharField(max_length=150, blank=True)
    custom_identifier = models.CharField(max_length=64, blank=True)
    outbound_call = models.ForeignKey(
        OutboundCall, null=True, blank=True, on_delete=models.SET_NULL, related_name="call_records"
    )
    # The agents' outcome of the call, copied from its wrap-up (our OutboundCall's, or the inbound
    # call's RingingAlert's) so the dashboard filters and counts by it without a join: the sync
    # copies it when it stores the record, and a wrap-up saved later updates it.
    disposition = models.ForeignKey(
        Disposition, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    raw = models.JSONField(default=dict)
    first_synced_at = models.DateTimeField()
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # Every dashboard query is "newest first" within a date range; the other indexes lead
            # with the filter that can be selective and end with the sort key. On PostgreSQL,
            # migration 0005 adds two more that Meta cannot describe: a trigram index for a few
            # digits of the customer's number, and (hour of day in TIME_ZONE, started_at, id).
            models.Index(fields=["started_at", "id"], name="callrecord_started"),
            models.Index(fields=["agent", "started_at"], name="callrecord_agent_started"),
            # Missed (or answered) calls, everyone's or an agent's: counted from the index alone.
            models.Index(fields=["status", "started_at"], name="callrecord_status_started"),
            models.Index(fields=["agent", "status", "started_at"], name="callrecord_agent_status"),
            models.Index(fields=["client_number", "started_at"], name="callrecord_client_started"),
            models.Index(fields=["call_duration", "id"], name="callrecord_duration"),
            models.Index(fields=["answered_seconds", "id"], name="callrecord_talk"),
            models.Index(fields=["disposition", "started_at"], name="callrecord_disposition"),  # built online (0010)
        ]

    def __str__(self) -> str:
        return f"record {self.call_id} ({self.status})"

    @property
    def answered(self) -> bool:
        return self.status == CallRecordStatus.ANSWERED

    @property
    def has_recording(self) -> bool:
        return bool(self.recording_url)

    @property
    def call_duration_text(self) -> str:
        return minutes_seconds(self.call_duration)

    @property
    def talk_time_text(self) -> str:
        return minutes_seconds(self.answered_seconds)


def minutes_seconds(seconds: int) -> str:
    """`125` -> `2:05`; an hour or more -> `1:02:05`."""
    hours, rest = divmod(max(0, seconds or 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class CallRecordSyncState(models.Model):
    """The incremental sync's watermark and its lease: one row per sync stream ("default").

    The lease is the lock: a run takes it with a conditional UPDATE (free or expired), renews it
    with every page and writes nothing once it has lost it. A run that dies leaves a lease that
    simply expires, so the next run can always start.
    """

    name = models.CharField(max_length=40, unique=True, default="default")
    watermark = models.DateTimeField(
        null=True, blank=True, help_text="Every record that started up to here has been stored."
    )
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"call record sync {self.name} @ {self.watermark}"


class CallRecordSyncRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped (another run holds the lock)"


class CallRecordSyncRun(models.Model):
    """One sync run (beat, command or backfill): what it asked for and how far it got."""

    kind = models.CharField(max_length=16, default="incremental")  # incremental | backfill
    trigger = models.CharField(max_length=16, default="beat")  # beat | command | manual
    status = models.CharField(
        max_length=16, choices=CallRecordSyncRunStatus.choices, default=CallRecordSyncRunStatus.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_from = models.DateTimeField(null=True, blank=True)
    window_to = models.DateTimeField(null=True, blank=True)
    watermark_before = models.DateTimeField(null=True, blank=True)
    watermark_after = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    records_received = models.PositiveIntegerField(default=0)
    records_stored = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "-started_at"], name="callrecordsyncrun_status")]

    def __str__(self) -> str:
        return f"sync run {self.pk} ({self.status})"
