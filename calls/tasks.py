"""Celery tasks of the calls app: thin wrappers over services."""

from __future__ import annotations

import logging

from celery import shared_task

from calls.services.records import SyncError, SyncProgress, call_records_sync
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
def sync_call_records() -> None:
    """Every CDR_SYNC_INTERVAL_SECONDS (beat): pull new call records from Smartflo.

    No task-level retry: the client already retries each request with backoff, a run that
    stops keeps every whole window it stored, and the next beat run carries on from there.
    """
    try:
        run = call_records_sync(trigger="beat", on_progress=_log_progress)
    except (SmartfloError, SyncError) as exc:
        logger.warning("call records sync failed: %s (the next run resumes from the watermark)", exc)
        return
    logger.info("call records sync run %s: %s", run.pk, run.status)


@shared_task(name="calls.reconcile_calls", ignore_result=True, soft_time_limit=120, time_limit=150)
def reconcile_calls() -> None:
    """Every few minutes (beat): settle calls whose events never arrived."""
    from calls.services.reconcile import calls_reconcile

    try:
        calls_reconcile()
    except SmartfloError as exc:
        logger.warning("calls reconcile skipped: %s", exc)
