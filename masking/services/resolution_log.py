"""Writes for the resolution log: one row per answer of the resolve endpoint, and the purge."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from masking.logwriter import resolution_log_write
from masking.models import ResolutionLog

logger = logging.getLogger(__name__)


def _clip(value: object, length: int) -> str:
    """Text the database can store: no NUL, no lone surrogate (either would fail the insert)."""
    text = str(value or "")[:length].replace("\x00", "")
    return text.encode("utf-8", "replace").decode("utf-8")


def masking_resolution_log_create(
    *,
    at: datetime,
    method: str,
    call_id: object,
    uuid: object,
    caller: object,
    dialled_number: object,
    outcome: str,
    answer: str | None,
    fallback: bool,
    status_code: int,
    rule_id: int | None,
    latency_ms: float,
) -> bool:
    """Record one resolution; never raises (the answer to Smartflo matters more than the log).

    With MASKING_LOG_FLUSH_SECONDS > 0 the row is handed to the batch writer (masking/logwriter.py)
    and written within that many seconds; with 0 it is written now. Returns False when the write
    (or the hand-over) failed.
    """
    try:
        resolution_log_write(
            {
                "created_at": at,
                "method": _clip(method, 8),
                "call_id": _clip(call_id, 64),
                "uuid": _clip(uuid, 64),
                "caller": _clip(caller, 32),
                "dialled_number": _clip(dialled_number, 32),
                "outcome": outcome,
                "answer": answer or "",
                "fallback": fallback,
                "status_code": status_code,
                "matched_rule": rule_id,
                "latency_ms": round(latency_ms, 3),
            },
            flush_seconds=float(getattr(settings, "MASKING_LOG_FLUSH_SECONDS", 0)),
        )
    except Exception:
        logger.exception("masking resolution log write failed (the answer was still sent)")
        return False
    return True


def masking_resolution_logs_purge(*, older_than: timedelta | None = None, batch_size: int = 5000) -> int:
    """Delete log rows older than MASKING_RESOLUTION_LOG_DAYS, in batches; returns how many."""
    if older_than is None:
        older_than = timedelta(days=int(getattr(settings, "MASKING_RESOLUTION_LOG_DAYS", 90)))
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        ids = list(ResolutionLog.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        deleted += ResolutionLog.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < batch_size:
            break
    if deleted:
        logger.info("purged %s masking resolution log rows", deleted)
    return deleted
