"""The outcome (disposition) a call record carries, copied from the agents' wrap-up.

A record of our call takes its OutboundCall's disposition. A record of an inbound call takes the
disposition of the agent who had the call last: of the agents who noted one, the one who did not
pass the call on, else the one who answered it last (`inbound_outcome`).

Two writers keep the copy true, and they cannot miss each other:
- a wrap-up saves the disposition with its call (or alert) row locked FOR UPDATE, then copies it
  to the call's records in the same transaction (`record_outcome_copy_*`);
- the sync reads the dispositions of a page's calls FOR KEY SHARE inside the transaction that
  stores the page (`call_outcomes`). That lock waits for a wrap-up in progress on those rows and
  makes a later wrap-up wait until the page is stored, so either the sync reads the new outcome
  or the wrap-up finds the stored record. (Plain updates of those rows go on meanwhile: FOR KEY
  SHARE only conflicts with FOR UPDATE and deletes. A call event, which locks its call FOR UPDATE,
  waits for the page at most; the sync stores calls that have ended.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection
from django.db.models import Q

from calls.models import CallRecord, OutboundCall, RingingAlert

OUTCOMES_VERSION_KEY = "records:outcomes-version"  # in the dashboard charts' cache key


def inbound_outcome(alerts: Iterable[tuple[int | None, int | None, object, int]]) -> int | None:
    """The disposition id a record of an inbound call shows, from its alerts'
    `(disposition_id, transferred_to_id, answered_at, id)`: the last holder's outcome."""
    noted = [alert for alert in alerts if alert[0] is not None]
    if not noted:
        return None
    # not passed on first, then the latest answered (never answered last), then the newest row
    best = max(noted, key=lambda a: (a[1] is None, a[2] is not None, a[2].timestamp() if a[2] else 0, a[3]))
    return best[0]


def _locked(queryset) -> list[tuple]:
    """The queryset's rows, locked FOR KEY SHARE on PostgreSQL (other backends lock whole
    databases for writes: SQLite's one writer at a time keeps the two writers apart there)."""
    if connection.vendor != "postgresql":
        return list(queryset)
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
        return cursor.fetchall()


def call_outcomes(
    *, identifiers: set[str], call_ids: set[str], inbound_call_ids: set[str]
) -> tuple[list[tuple[int, str, str | None, int | None]], dict[str, int | None]]:
    """For a page the sync is storing (call inside its transaction): the OutboundCalls matching
    `identifiers` or `call_ids` as `(pk, custom_identifier, call_id, disposition_id)`, and
    `{call_id: disposition id}` of the inbound calls in `inbound_call_ids` that have alerts."""
    calls: list[tuple] = []
    if identifiers or call_ids:
        calls = _locked(
            OutboundCall.objects.filter(Q(custom_identifier__in=identifiers) | Q(call_id__in=call_ids))
            .order_by("pk")
            .values_list("pk", "custom_identifier", "call_id", "disposition_id")
        )
    inbound: dict[str, int | None] = {}
    if inbound_call_ids:
        rows = _locked(
            RingingAlert.objects.filter(call_id__in=inbound_call_ids)
            .order_by("pk")
            .values_list("call_id", "disposition_id", "transferred_to_id", "answered_at", "pk")
        )
        by_call: dict[str, list[tuple]] = {}
        for call_id, *alert in rows:
            by_call.setdefault(call_id, []).append(tuple(alert))
        inbound = {call_id: inbound_outcome(alerts) for call_id, alerts in by_call.items()}
    return calls, inbound


def record_outcome_copy_outbound(call: OutboundCall) -> None:
    """After a wrap-up of our call (its row locked): its records show its disposition."""
    _changed(CallRecord.objects.filter(outbound_call=call).update(disposition_id=call.disposition_id))


def record_outcome_copy_inbound(call_id: str) -> None:
    """After a wrap-up (or a transfer) of an inbound call: its record shows the last holder's outcome."""
    alerts = RingingAlert.objects.filter(call_id=call_id).values_list(
        "disposition_id", "transferred_to_id", "answered_at", "pk"
    )
    _changed(
        CallRecord.objects.filter(call_id=call_id, outbound_call__isnull=True).update(
            disposition_id=inbound_outcome(alerts)
        )
    )


def _changed(records: int) -> None:
    """Records changed outcome: the dashboard's cached charts are out of date (a new version)."""
    if not records:
        return
    if not cache.add(OUTCOMES_VERSION_KEY, 1, timeout=None):
        with contextlib.suppress(ValueError):  # gone between add and incr: the next change bumps it
            cache.incr(OUTCOMES_VERSION_KEY)
