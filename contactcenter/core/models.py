"""Project-wide records that belong to no single app."""

from __future__ import annotations

from django.db import models


class ErasedNumber(models.Model):
    """A phone number whose personal data was erased (`manage.py erase_personal_data`).

    Holds a keyed hash of the E.164 number, never the number: enough for the call-record sync to
    recognise (and skip) a record of that number, useless for recovering it. See
    contactcenter/core/services/erasure.py for the key.
    """

    number_hash = models.CharField(max_length=64, unique=True, help_text="HMAC-SHA256 of the E.164 number.")
    erased_at = models.DateTimeField(help_text="The last erasure of this number.")
    erasures = models.PositiveIntegerField(default=1, help_text="How many times it was erased.")

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = "erased number"

    def __str__(self) -> str:
        return f"erased number {self.number_hash[:12]}… ({self.erased_at:%Y-%m-%d})"
