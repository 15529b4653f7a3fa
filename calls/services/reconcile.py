"""Calls whose events never came: settle them from Smartflo's own view.

Webhooks get lost (a deploy, a timeout, a misconfigured trigger). Without a reconcile, a call
would stay "originating" or "unknown" for ever. Every few minutes, calls that are not final and
older than CALL_RECONCILE_AFTER_SECONDS are looked up: still listed live by Smartflo → left
alone; a synced call record → its outcome; neither, and older than an hour → failed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from calls.models import FINAL_STATUSES, CallRecord, CallStatus, OutboundCall
from calls.services.state import IllegalTransition, call_can_transition, call_transition
from contactcenter.smartflo import SmartfloClient, client_from_settings

logger = logging.getLogger(__name__)
GIVE_UP_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class ReconcileResult:
    checked: int
    settled: int
    still_live: int


def calls_reconcile(*, client: SmartfloClient | None = None) -> ReconcileResult:
    now = timezone.now()
    stale = list(
        OutboundCall.objects.exclude(status__in=FINAL_STATUSES)
        .filter(requested_at__lt=now - timedelta(seconds=settings.CALL_RECONCILE_AFTER_SECONDS))
        .order_by("requested_at")[:500]
    )
    if not stale:
        return ReconcileResult(checked=0, settled=0, still_live=0)
    smartflo = client or client_from_settings()
    try:
        live = smartflo.live_calls()
    finally:
        if client is None:
            smartflo.close()
    live_ids = {c.call_id for c in live} | {c.custom_identifier for c in live}
    records = {
        r.custom_identifier or r.call_id: r
        for r in CallRecord.objects.filter(
            Q(call_id__in=[c.call_id for c in stale if c.call_id])
            | Q(custom_identifier__in=[str(c.custom_identifier) for c in stale])
        )
    }
    settled = still_live = 0
    for call in stale:
        if call.call_id in live_ids or str(call.custom_identifier) in live_ids:
            still_live += 1
            continue
        record = records.get(str(call.custom_identifier)) or records.get(call.call_id or "")
        if record is not None:
            target = CallStatus.COMPLETED if record.status == "answered" else CallStatus.MISSED
            message = "Settled from Smartflo's call record (its events never arrived)"
        elif now - call.requested_at > GIVE_UP_AFTER:
            target, message = CallStatus.FAILED, "No event or call record from Smartflo within an hour"
        else:
            continue
        if call_can_transition(call.status, target):
            try:
                call_transition(call=call, to=target, provider_message=message)
                settled += 1
            except IllegalTransition:
                pass  # an event settled it meanwhile
    result = ReconcileResult(checked=len(stale), settled=settled, still_live=still_live)
    logger.info("calls reconcile: %s", result)
    return result
