"""Retention: personal data older than its setting's number of days is deleted, daily.

Each kind of row has its own setting (0 keeps it for ever), read when the purge runs:

* CALL_RECORD_RETENTION_DAYS: call records (by start);
* CALL_RETENTION_DAYS: outbound calls (by request; their provider requests go with them), call
  events (by receipt) and pop-up alerts (by start);
* OTP_RETENTION_DAYS: OTP challenges (by creation; their provider requests go with them);
* IDEMPOTENCY_RETENTION_DAYS: stored idempotent answers (by creation);
* SIGNIN_LOG_RETENTION_DAYS: django-axes access and failure logs (by attempt).

Deletes go in batches of RETENTION_BATCH_SIZE rows, each its own transaction: locks stay short
while web requests write the same tables, and a run cut short (time limit, restart) keeps what
it deleted and leaves the rest to the next day. A batch takes the oldest rows through an index
on the date; django-axes' tables have none on `attempt_time` (and are not ours to migrate), so
they are walked by primary key instead, each batch starting after the last one's rows. Expired
sign-in sessions are cleared too (what `manage.py clearsessions` does). The masking resolution
log has its own daily purge (`masking.purge_resolution_logs`, MASKING_RESOLUTION_LOG_DAYS).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module

from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from calls.models import CallEvent, CallRecord, IdempotentRequest, OutboundCall, RingingAlert
from otp.models import OtpChallenge

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionRule:
    model: type[models.Model]
    date_field: str
    setting: str
    #: Whether an index leads with `date_field` (else batches are taken in primary key order).
    date_indexed: bool = True

    @property
    def label(self) -> str:
        return self.model._meta.db_table


#: In this order: events and alerts before the calls they may point at.
RULES: tuple[RetentionRule, ...] = (
    RetentionRule(CallEvent, "received_at", "CALL_RETENTION_DAYS"),
    RetentionRule(RingingAlert, "started_at", "CALL_RETENTION_DAYS"),
    RetentionRule(OutboundCall, "requested_at", "CALL_RETENTION_DAYS"),
    RetentionRule(CallRecord, "started_at", "CALL_RECORD_RETENTION_DAYS"),
    RetentionRule(OtpChallenge, "created_at", "OTP_RETENTION_DAYS"),
    RetentionRule(IdempotentRequest, "created_at", "IDEMPOTENCY_RETENTION_DAYS"),
    RetentionRule(AccessLog, "attempt_time", "SIGNIN_LOG_RETENTION_DAYS", date_indexed=False),
    RetentionRule(AccessFailureLog, "attempt_time", "SIGNIN_LOG_RETENTION_DAYS", date_indexed=False),
)


def retention_cutoff(setting: str, *, now: datetime | None = None) -> datetime | None:
    """Rows older than this are due for deletion; None when the setting keeps them for ever."""
    days = int(getattr(settings, setting, 0) or 0)
    if days <= 0:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def _delete_in_batches(rule: RetentionRule, cutoff: datetime, batch_size: int) -> dict[str, int]:
    """Delete the rule's rows older than `cutoff`; rows deleted per table (cascades included)."""
    manager = rule.model._default_manager
    due = manager.filter(**{f"{rule.date_field}__lt": cutoff})
    # Oldest first through the date's index; without one, ordering by the date would sort the
    # whole table for every batch, so the primary key's order is walked (a single pass per run).
    due = due.order_by(rule.date_field, "pk") if rule.date_indexed else due.order_by("pk")
    deleted: dict[str, int] = {}
    after = None
    while True:
        with transaction.atomic():
            batch = due if after is None or rule.date_indexed else due.filter(pk__gt=after)
            pks = list(batch.values_list("pk", flat=True)[:batch_size])
            if not pks:
                break
            after = pks[-1]
            _, per_model = manager.filter(pk__in=pks).delete()
        for label, count in per_model.items():
            if count:
                deleted[label] = deleted.get(label, 0) + count
        if len(pks) < batch_size:
            break
    return deleted


def expired_sessions_clear() -> None:
    """What `manage.py clearsessions` does: delete expired sessions from the session store."""
    engine = import_module(settings.SESSION_ENGINE)
    with contextlib.suppress(NotImplementedError):  # stores that expire by themselves (cache, cookies)
        engine.SessionStore.clear_expired()


def personal_data_purge_expired(*, now: datetime | None = None, batch_size: int | None = None) -> dict[str, int]:
    """Delete every row past its retention (see the module docstring) and expired sessions.

    Returns rows deleted per model label ("calls.CallRecord": 12, cascades included), and logs
    the counts. Safe to run at any time and as often as wanted.
    """
    batch_size = max(1, batch_size or int(getattr(settings, "RETENTION_BATCH_SIZE", 1000)))
    now = now or timezone.now()
    totals: dict[str, int] = {}
    for rule in RULES:
        cutoff = retention_cutoff(rule.setting, now=now)
        if cutoff is None:
            continue
        for label, count in _delete_in_batches(rule, cutoff, batch_size).items():
            totals[label] = totals.get(label, 0) + count
    expired_sessions_clear()
    if totals:
        logger.info("retention purge: %s", ", ".join(f"{label} {count}" for label, count in sorted(totals.items())))
    else:
        logger.info("retention purge: nothing past its retention")
    return totals
