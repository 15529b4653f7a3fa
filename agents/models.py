from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower

intercom_validator = RegexValidator(r"^[1-9]\d{3}$", "An intercom is a 4-digit number not starting with 0.")


class Agent(models.Model):
    """A Smartflo agent: the person whose phone rings for click-to-call and transfers.

    `smartflo_id` links the row to Smartflo's agent; sync matches on it first, then on `eid`,
    then on the follow-me number. Agents that vanish upstream are deactivated, never deleted:
    their calls and records keep pointing at them.
    """

    smartflo_id = models.CharField("Smartflo agent id", max_length=64, unique=True, null=True, blank=True)
    eid = models.CharField("extension id (EID)", max_length=64, blank=True, db_index=True)
    name = models.CharField(max_length=150)
    follow_me_number = models.CharField(
        "follow-me number",
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        help_text="The agent's phone, E.164 (+919876543210). Empty only if Smartflo has no usable number.",
    )
    intercom = models.CharField(max_length=4, unique=True, null=True, blank=True, validators=[intercom_validator])
    blocked = models.BooleanField(default=False, help_text="Blocked in Smartflo: calls are not routed to them.")
    calls_answered = models.PositiveIntegerField(default=0)
    calls_missed = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="agent"
    )
    is_active = models.BooleanField(default=True, help_text="False once the agent disappears from Smartflo.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = [Lower("name"), "pk"]
        indexes = [models.Index(fields=["is_active", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        if not self.is_active:
            return "inactive"
        return "blocked" if self.blocked else "active"
