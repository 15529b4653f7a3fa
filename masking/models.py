"""Number masking: the masking-number pool, rules, their routes, sessions and the resolution log.

A *rule* says "a call from party A to masking number N goes to party B" (and, when two-way, B to
N goes to A). Its *routes* are the same facts written one row per caller; they exist only while
the rule is active, and a plain unique constraint on (masking number, caller) is what makes two
live answers for one caller impossible, whichever column of a rule the caller sits in. Write
rules only through `masking.services`, which keeps routes in step; the resolve endpoint reads
routes.

Every phone number is stored in E.164 (`+919876543210`).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least

PHONE_MAX_LENGTH = 16  # "+" and at most 15 digits


class MaskingNumber(models.Model):
    """A virtual DID that Smartflo routes to our API Dialplan endpoint.

    `active` numbers resolve; `pooled` numbers may also be handed out to sessions.
    """

    # The DID is the identity (and the key routes are looked up by): to change one, add the new
    # number and move its rules.
    number = models.CharField(max_length=PHONE_MAX_LENGTH, primary_key=True, help_text="E.164, e.g. +918069000111.")
    label = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True, help_text="Inactive numbers route nobody (Smartflo fails over).")
    pooled = models.BooleanField("in the session pool", default=False, help_text="Sessions may allocate this number.")
    last_allocated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        indexes = [
            models.Index(
                fields=["last_allocated_at", "number"], condition=Q(active=True, pooled=True), name="masking_pool_lru"
            )
        ]

    def __str__(self) -> str:
        return self.number


class MaskingRule(models.Model):
    """Who a caller reaches when dialling a masking number.

    Matches only while `active` and `valid_from <= now < valid_until` (either bound may be
    open). `ended_at` is when an active rule stopped (deactivated, closed or expired): the
    session pool keeps the number away from this rule's parties for the cool-off after it.
    """

    masking_number = models.ForeignKey(MaskingNumber, on_delete=models.PROTECT, related_name="rules")
    party_a = models.CharField("party A", max_length=PHONE_MAX_LENGTH, help_text="The caller (E.164).")
    party_b = models.CharField("party B", max_length=PHONE_MAX_LENGTH, help_text="Whom party A reaches (E.164).")
    two_way = models.BooleanField(default=False, help_text="Party B dialling the number reaches party A.")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    reference = models.CharField(max_length=100, blank=True, help_text="Your label: an order, a ticket...")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=~Q(party_a=F("party_b")), name="masking_rule_parties_differ"),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="masking_rule_window_ordered",
            ),
            # Belt and braces for writes that bypass the services; MaskingRoute covers every caller.
            models.UniqueConstraint(
                fields=["masking_number", "party_a"], condition=Q(active=True), name="masking_rule_one_active_a"
            ),
            models.UniqueConstraint(
                fields=["masking_number", "party_b"],
                condition=Q(active=True, two_way=True),
                name="masking_rule_one_active_two_way_b",
            ),
        ]
        indexes = [
            models.Index(fields=["party_a"], name="masking_rule_party_a"),
            models.Index(fields=["party_b"], name="masking_rule_party_b"),
        ]

    def __str__(self) -> str:
        arrow = "<->" if self.two_way else "->"
        return f"#{self.pk} {self.party_a} {arrow} {self.party_b} via {self.masking_number_id}"

    def callers(self) -> list[tuple[str, str]]:
        """(caller, callee) pairs this rule answers for."""
        pairs = [(self.party_a, self.party_b)]
        if self.two_way:
            pairs.append((self.party_b, self.party_a))
        return pairs

    def state_at(self, at: datetime) -> str:
        """`live`, `scheduled`, `expired` or `inactive`: what the rule does at that instant."""
        if not self.active:
            return "inactive"
        if self.valid_until is not None and at >= self.valid_until:
            return "expired"
        if self.valid_from is not None and at < self.valid_from:
            return "scheduled"
        return "live"


class MaskingRoute(models.Model):
    """One (masking number, caller) -> callee fact of an *active* rule; deleted when it stops.

    The unique constraint is the database's guarantee that a caller dialling a masking number
    has at most one active rule, whether the caller is the rule's party A or, on a two-way rule,
    its party B. The rule's window and the number's `active` are copied here (by the services,
    in the transaction that changes them) so that resolving a call reads one row of one table.
    """

    rule = models.ForeignKey(MaskingRule, on_delete=models.CASCADE, related_name="routes")
    masking_number = models.ForeignKey(MaskingNumber, on_delete=models.PROTECT, related_name="+")
    caller = models.CharField(max_length=PHONE_MAX_LENGTH)
    callee = models.CharField(max_length=PHONE_MAX_LENGTH)
    valid_from = models.DateTimeField(null=True, blank=True)  # = rule.valid_from
    valid_until = models.DateTimeField(null=True, blank=True)  # = rule.valid_until
    number_active = models.BooleanField(default=True)  # = masking_number.active

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["masking_number", "caller"], name="masking_route_one_per_caller"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} -> {self.callee} via {self.masking_number_id}"


class MaskingSession(models.Model):
    """A pool number lent to two parties for a while (the Twilio Proxy / Plivo idea).

    Backed by a two-way rule valid until `expires_at`, so an expired session stops matching at
    once; the periodic task then moves it to `expired`. `status` is a state machine:
    see TRANSITIONS and `services.masking_session_transition`.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        CLOSED = "closed", "closed"
        EXPIRED = "expired", "expired"

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        Status.ACTIVE: frozenset({Status.CLOSED, Status.EXPIRED}),
        Status.CLOSED: frozenset(),
        Status.EXPIRED: frozenset(),
    }

    rule = models.OneToOneField(MaskingRule, on_delete=models.PROTECT, related_name="session")
    masking_number = models.ForeignKey(MaskingNumber, on_delete=models.PROTECT, related_name="sessions")
    party_a = models.CharField("party A", max_length=PHONE_MAX_LENGTH)
    party_b = models.CharField("party B", max_length=PHONE_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints: ClassVar = [
            # One active session per pair of parties, in either order.
            models.UniqueConstraint(
                Least("party_a", "party_b"),
                Greatest("party_a", "party_b"),
                condition=Q(status="active"),
                name="masking_session_one_active_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="masking_session_due")]

    def __str__(self) -> str:
        return f"session #{self.pk} ({self.status})"

    def status_at(self, at: datetime) -> str:
        """The status as callers see it: an active session past its expiry is already expired."""
        if self.status == self.Status.ACTIVE and at >= self.expires_at:
            return self.Status.EXPIRED
        return self.status


class ResolutionLog(models.Model):
    """One answer of the resolve endpoint (authenticated requests only)."""

    class Outcome(models.TextChoices):
        MATCHED = "matched", "matched a rule"
        NO_RULE = "no_rule", "no active rule"
        NOT_YET_VALID = "not_yet_valid", "rule not valid yet"
        EXPIRED = "expired", "rule expired"
        NUMBER_INACTIVE = "number_inactive", "masking number inactive"
        CALLER_WITHHELD = "caller_withheld", "caller id withheld"
        INVALID = "invalid", "malformed request"
        ERROR = "error", "internal error"

    created_at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=8)
    call_id = models.CharField(max_length=64, blank=True, db_index=True)
    uuid = models.CharField(max_length=64, blank=True)
    caller = models.CharField(max_length=32, blank=True)
    dialled_number = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    answer = models.CharField(max_length=16, blank=True, help_text="The 10-digit number we told Smartflo to dial.")
    fallback = models.BooleanField(default=False, help_text="The answer is MASKING_FALLBACK_NUMBER.")
    status_code = models.PositiveSmallIntegerField()
    # No database constraint or index: the log is append-only history, its insert must not pay
    # for (or fail on) a foreign-key check, and a deleted rule's id is still worth reading.
    matched_rule = models.ForeignKey(
        MaskingRule,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    latency_ms = models.FloatField(help_text="From request to answer, excluding this row's write.")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.outcome}"
