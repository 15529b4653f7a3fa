"""Celery tasks of the calls app: thin wrappers over services."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from calls.models import CallRecordSyncRunStatus
from calls.services.records import SyncError, SyncProgress, call_records_sync, call_records_sync_request_taken
from contactcenter.smartflo import SmartfloError

logger = logging.getLogger(__name__)


def _log_progress(progress: SyncProgress) -> None:
    logger.info(
        "call records sync: window %d/%d (%s .. %s): %d of %d records stored, %d pages so far",
        progress.window_index,
        progress.windows,
        progress.window_from,
        progress.window_to,
        progress.window_stored,
        progress.window_expected,
        progress.pages,
    )


@shared_task(name="calls.sync_call_records", ignore_result=True, soft_time_limit=900, time_limit=960)
def sync_call_records(trigger: str = "beat") -> None:
    """Every CDR_SYNC_INTERVAL_SECONDS (beat), or when a supervisor asks ("manual"): pull new
    call records from Smartflo.

    No task-level retry: the client already retries each request with backoff, a run that
    stops keeps every whole window it stored, and the next beat run carries on from there.
    """
    if trigger == "manual":
        call_records_sync_request_taken()
    try:
        run = call_records_sync(trigger="manual" if trigger == "manual" else "beat", on_progress=_log_progress)
    except (SmartfloError, SyncError) as exc:
        logger.warning("call records sync failed: %s (the next run resumes from the watermark)", exc)
        return
    logger.info("call records sync run %s: %s", run.pk, run.status)


@shared_task(
    name="calls.settle_call_records",
    bind=True,
    ignore_result=True,
    soft_time_limit=3000,
    time_limit=3060,
    max_retries=12,
)
def settle_call_records(self) -> None:
    """Daily (beat): a backfill of the last CDR_SYNC_SETTLE_SECONDS.

    Smartflo lists a call under the time it started, once it has ended: a call longer than
    CDR_SYNC_OVERLAP_SECONDS that straddles an incremental run starts before the next run's
    window and is never seen by it; so is a recording URL Smartflo adds later still. This run
    re-reads the recent past and stores what the incremental runs missed (upserts: nothing
    twice). When an incremental run holds the lock it tries again a few minutes later.
    """
    start = timezone.now() - timedelta(seconds=settings.CDR_SYNC_SETTLE_SECONDS)
    try:
        run = call_records_sync(start=start, trigger="beat", on_progress=_log_progress)
    except SmartfloError as exc:
        if not exc.transient:  # a refused token or request will not pass by retrying
            logger.error("call records settle run failed: %s (not retried: fix the cause, then backfill)", exc)
            return
        logger.warning("call records settle run failed: %s (retrying)", exc)
        raise self.retry(countdown=300) from None
    except SyncError as exc:
        logger.warning("call records settle run failed: %s (retrying)", exc)
        raise self.retry(countdown=300) from None
    if run.status == CallRecordSyncRunStatus.SKIPPED:
        raise self.retry(countdown=120)
    logger.info("call records settle run %s: %s, %d records stored", run.pk, run.status, run.records_stored)


@shared_task(name="calls.reconcile_calls", ignore_result=True, soft_time_limit=120, time_limit=150)
def reconcile_calls() -> None:
    """Every few minutes (beat): settle calls whose events never arrived."""
    from calls.services.reconcile import calls_reconcile

    try:
        calls_reconcile()
    except SmartfloError as exc:
        logger.warning("calls reconcile skipped: %s", exc)
