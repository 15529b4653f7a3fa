"""Call records (CDRs): the incremental sync from Smartflo's `GET /call/records`.

How a run works (see docs/call-records.md):

* **Lock.** A run first takes the sync's lease (CallRecordSyncState, one conditional UPDATE on the
  database clock: free or expired). It renews the lease in the same transaction as every page it
  writes, so a run that has lost its lease writes nothing more, and a run that dies leaves a lease
  that simply expires. A second run that finds the lease held is recorded as skipped.
* **Window.** An incremental run covers [watermark - CDR_SYNC_OVERLAP_SECONDS, now] in windows of
  at most CDR_SYNC_WINDOW_SECONDS. The watermark moves to a window's end only once every record of
  that window is stored, so a run that dies part-way loses nothing: the next one walks the window
  again. The overlap catches records that appear late (a call is listed when it ends, with the
  time it started).
* **Walk.** Pages are read with a time cursor (`from_date` = the start of the last record seen,
  always page 1) instead of page numbers, so rows that shift between requests are neither lost
  nor repeated; a second with more records than a page is walked by page number. The provider's
  `count` is checked at the end of a window: a walk that came up short is walked again (with
  another page size), and the run fails rather than move the watermark over a gap.
* **Upsert.** One INSERT ... ON CONFLICT (call_id) DO UPDATE per page, after de-duplicating the
  page (and skipping rows this window already stored unchanged). Blank values never erase known
  ones: text columns update as COALESCE(NULLIF(new, ''), old), counters as
  COALESCE(NULLIF(new, 0), old), nullable ones as COALESCE(new, old).
* **Not stored again.** Records older than CALL_RECORD_RETENTION_DAYS (the daily purge would
  delete them), and records of a customer whose data was erased (`erase_personal_data`) that
  started before the erasure: the erased numbers' keyed hashes are loaded once per run, and
  reloaded if an erasure happened meanwhile (one small query per page, in the page's transaction
  after the lease renewal: an erasure locks the lease row, so it and a page never interleave).
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from agents.models import Agent
from calls.models import CallRecord, CallRecordSyncRun, CallRecordSyncState
from calls.models import CallRecordSyncRunStatus as RunStatus
from calls.services.outcomes import call_outcomes
from contactcenter.core.selectors import erased_number_lookup, erased_numbers_version
from contactcenter.core.services.retention import retention_cutoff
from contactcenter.phones import InvalidPhoneNumber, to_e164
from contactcenter.smartflo import CallRecord as ProviderRecord
from contactcenter.smartflo import CallRecordsPage, SmartfloClient, client_from_settings

logger = logging.getLogger(__name__)

SYNC_NAME = "default"
ONE_SECOND = timedelta(seconds=1)
PROGRESS_SAVE_SECONDS = 1.0  # how often a running sync writes its counts for the dashboard
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


class SyncError(Exception):
    """A sync run could not finish; the watermark stays where the last whole window left it."""


class LeaseLost(SyncError):
    """Another run took the lease (this one was too slow to renew it): stop writing."""


class WindowIncomplete(SyncError):
    """Smartflo counted more records in a window than its pages returned, three walks running."""


@dataclass(frozen=True)
class SyncProgress:
    """What a run has done so far; passed to `on_progress` after each page.

    `window_expected` is Smartflo's count for the current window (known from its first page).
    Totals (`pages`, `received`, `stored`) are for the whole run.
    """

    window_from: datetime
    window_to: datetime
    window_index: int
    windows: int
    window_expected: int
    window_stored: int
    page_stored: int
    pages: int
    received: int
    stored: int


ProgressCallback = Callable[[SyncProgress], None]


# --- Asked for from the dashboard ------------------------------------------------------------

SYNC_REQUEST_KEY = "records:sync:requested"
SYNC_REQUEST_SECONDS = 600  # how long "waiting for a worker" is shown before it is forgotten


def call_records_sync_request() -> datetime:
    """Queue an incremental run now (the dashboard's "Sync now"); returns when it was asked for.

    A run already going, or asked for and not started yet, is not asked for twice: its time is
    returned. The request is kept in the cache (claimed with `add`, so two clicks at once queue
    one run) until the task starts, so the dashboard can say it waits for a worker.
    Raises ApplicationError (503 queue_unavailable) when the task queue cannot be reached.
    """
    from kombu.exceptions import OperationalError as BrokerError

    from calls.records_selectors import call_record_sync_status
    from calls.tasks import sync_call_records
    from contactcenter.core.exceptions import ApplicationError

    latest = call_record_sync_status()
    if latest is not None and latest.status == RunStatus.RUNNING:
        return latest.started_at
    at = timezone.now()
    if not cache.add(SYNC_REQUEST_KEY, at, SYNC_REQUEST_SECONDS):  # set before queueing: an eager run starts inside
        return cache.get(SYNC_REQUEST_KEY) or at
    try:
        sync_call_records.apply_async(kwargs={"trigger": "manual"})
    except (BrokerError, OSError) as exc:
        cache.delete(SYNC_REQUEST_KEY)
        logger.error("call records sync could not be queued (%s)", exc.__class__.__name__)
        raise ApplicationError(
            "The task queue cannot be reached: records will sync at the next scheduled run.",
            code="queue_unavailable",
            status_code=503,
        ) from None
    logger.info("call records sync asked for from the dashboard")
    return at


def call_records_sync_requested() -> datetime | None:
    """When a "Sync now" was asked for that no worker has taken up yet (else None)."""
    return cache.get(SYNC_REQUEST_KEY)


def call_records_sync_request_taken() -> None:
    """The task started: the dashboard stops saying it waits (whatever the run then does)."""
    cache.delete(SYNC_REQUEST_KEY)


# --- The run ---------------------------------------------------------------------------------


def call_records_sync(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    trigger: str = "beat",
    on_progress: ProgressCallback | None = None,
    client: SmartfloClient | None = None,
) -> CallRecordSyncRun:
    """Pull call records from Smartflo into CallRecord; returns the run (succeeded or skipped).

    Without `start` it is the incremental sync ([watermark - overlap, now]); with `start` it is a
    backfill of [start, end or now], which moves the watermark only where it continues it.
    Raises the error that stopped the run (a SmartfloError, SyncError) after recording it.
    """
    state = CallRecordSyncState.objects.get_or_create(name=SYNC_NAME)[0]
    owner = uuid.uuid4().hex
    kind = "incremental" if start is None else "backfill"
    if not _lease_acquire(owner):
        state.refresh_from_db()
        logger.info("call records sync skipped: another run holds the lock until %s", state.lease_expires_at)
        now = timezone.now()
        return CallRecordSyncRun.objects.create(
            kind=kind,
            trigger=trigger,
            status=RunStatus.SKIPPED,
            finished_at=now,
            watermark_before=state.watermark,
            watermark_after=state.watermark,
            error=f"another run holds the lock until {state.lease_expires_at:%Y-%m-%d %H:%M:%S %Z}",
        )
    run: CallRecordSyncRun | None = None
    try:
        _abandon_dead_runs()
        state.refresh_from_db()
        now = timezone.now().replace(microsecond=0)
        window_from, window_to = _run_range(state.watermark, start=start, end=end, now=now)
        run = CallRecordSyncRun.objects.create(
            kind=kind,
            trigger=trigger,
            window_from=window_from,
            window_to=window_to,
            watermark_before=state.watermark,
        )
        logger.info("call records sync %s (%s) started: %s .. %s", run.pk, kind, window_from, window_to)
        own_client = client is None
        smartflo = client_from_settings() if own_client else client
        try:
            watermark = _sync_range(
                smartflo,
                owner=owner,
                run=run,
                window_from=window_from,
                window_to=window_to,
                watermark=state.watermark,
                incremental=start is None,
                on_progress=on_progress,
            )
        finally:
            if own_client:
                smartflo.close()
        run.status = RunStatus.SUCCEEDED
        run.watermark_after = watermark
        run.finished_at = timezone.now()
        run.save(
            update_fields=["status", "watermark_after", "finished_at", "pages", "records_received", "records_stored"]
        )
        logger.info(
            "call records sync %s succeeded: %d records received, %d stored in %d pages; watermark %s",
            run.pk,
            run.records_received,
            run.records_stored,
            run.pages,
            watermark,
        )
        return run
    except BaseException as exc:  # SoftTimeLimitExceeded and KeyboardInterrupt too: record, re-raise
        if run is not None:
            _fail(run, exc)
        raise
    finally:
        _lease_release(owner)


def _run_range(
    watermark: datetime | None, *, start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    window_to = min(end, now) if end is not None else now
    if start is not None:
        window_from = start
    elif watermark is not None:
        window_from = watermark - timedelta(seconds=settings.CDR_SYNC_OVERLAP_SECONDS)
    else:
        window_from = now - timedelta(seconds=settings.CDR_SYNC_INITIAL_LOOKBACK_SECONDS)
    if window_from > window_to:
        raise SyncError(f"the range starts ({window_from}) after it ends ({window_to})")
    return window_from, window_to


def _windows(window_from: datetime, window_to: datetime) -> list[tuple[datetime, datetime]]:
    size = timedelta(seconds=max(60, settings.CDR_SYNC_WINDOW_SECONDS))
    windows = []
    start = window_from
    while True:
        stop = min(start + size, window_to)
        windows.append((start, stop))
        if stop >= window_to:
            return windows
        start = stop  # bounds are inclusive: the shared second is read twice, stored once


def _sync_range(
    smartflo: SmartfloClient,
    *,
    owner: str,
    run: CallRecordSyncRun,
    window_from: datetime,
    window_to: datetime,
    watermark: datetime | None,
    incremental: bool,
    on_progress: ProgressCallback | None,
) -> datetime | None:
    windows = _windows(window_from, window_to)
    links = _Links()
    for index, (start, stop) in enumerate(windows, 1):
        _sync_window(
            smartflo,
            owner=owner,
            run=run,
            links=links,
            start=start,
            stop=stop,
            index=index,
            windows=len(windows),
            on_progress=on_progress,
        )
        continues = watermark is None or start <= watermark
        if (incremental or continues) and (watermark is None or stop > watermark):
            _watermark_advance(owner, stop)
            watermark = stop
    return watermark


def _sync_window(
    smartflo: SmartfloClient,
    *,
    owner: str,
    run: CallRecordSyncRun,
    links: _Links,
    start: datetime,
    stop: datetime,
    index: int,
    windows: int,
    on_progress: ProgressCallback | None,
) -> None:
    """Store every record that started in [start, stop]; WindowIncomplete if Smartflo's count
    says some never came back (after walking the window three times)."""
    stored_versions: dict[str, int] = {}  # call_id -> hash of the version this window stored
    expected: int | None = None
    limit = settings.CDR_SYNC_PAGE_SIZE
    # A re-walk uses another page size: rows a shifting provider hid at page boundaries are then
    # at other offsets. (Only pages read by number can shift; the time cursor always reads page 1.)
    for walk, page_size in enumerate((limit, max(10, limit * 3 // 4 - 1), max(10, limit // 2 + 1)), 1):
        for page in _walk(smartflo, start, stop, page_size):
            if expected is None:
                expected = page.count
            written = _store_page(owner, run, page.results, stored_versions, links)
            if on_progress is not None:
                on_progress(
                    SyncProgress(
                        window_from=start,
                        window_to=stop,
                        window_index=index,
                        windows=windows,
                        window_expected=expected,
                        window_stored=len(stored_versions),
                        page_stored=written,
                        pages=run.pages,
                        received=run.records_received,
                        stored=run.records_stored,
                    )
                )
        if len(stored_versions) >= (expected or 0):
            logger.info(
                "call records window %s .. %s stored: %d records (Smartflo counted %d)",
                start,
                stop,
                len(stored_versions),
                expected,
            )
            return
        logger.warning(
            "call records window %s .. %s: Smartflo counted %d records, walk %d returned %d",
            start,
            stop,
            expected,
            walk,
            len(stored_versions),
        )
    raise WindowIncomplete(
        f"Smartflo counted {expected} records between {start} and {stop}, "
        f"but its pages returned only {len(stored_versions)}"
    )


def _walk(smartflo: SmartfloClient, start: datetime, stop: datetime, limit: int) -> Iterator[CallRecordsPage]:
    """Every page of records that started in [start, stop], by time cursor.

    Each request asks for page 1 from the start time of the last record seen (inclusive), so
    the window's remaining rows are always read from their beginning: rows inserted or shifted
    between requests cannot make the walk skip any. If Smartflo ever returns a page that is not
    in start order, the rest of the window is read by page number.
    """
    cursor = start
    while True:
        page = smartflo.call_records(from_date=cursor, to_date=stop, page=1, limit=limit)
        yield page
        if len(page.results) < page.limit or page.count <= len(page.results):
            return
        starts = [r.started_at for r in page.results if r.started_at is not None]
        if not starts or any(a > b for a, b in itertools.pairwise(starts)):
            logger.warning("call records: Smartflo's page is not in start order; reading by page number")
            yield from _walk_numbered(smartflo, cursor, stop, limit, first=2)
            return
        last = starts[-1]
        if last > cursor:
            cursor = last
            continue
        # A whole page started in the same second: read that second by page number, move past it.
        yield from _walk_numbered(smartflo, cursor, cursor, limit, first=2)
        cursor += ONE_SECOND
        if cursor > stop:
            return


def _walk_numbered(
    smartflo: SmartfloClient, start: datetime, stop: datetime, limit: int, *, first: int
) -> Iterator[CallRecordsPage]:
    number = first
    while True:
        page = smartflo.call_records(from_date=start, to_date=stop, page=number, limit=limit)
        yield page
        if not page.results or number >= page.last_page:
            return
        number += 1


# --- Storing a page --------------------------------------------------------------------------


class _Links:
    """Resolves a record's agent (by Smartflo id, then number) and its OutboundCall, and knows
    which records must not be stored (past retention, or an erased customer's)."""

    def __init__(self) -> None:
        self.keep_after = retention_cutoff("CALL_RECORD_RETENTION_DAYS")
        self.erased_version = erased_numbers_version()  # read first: a change meanwhile reloads
        self.erased_at = erased_number_lookup()  # None when no number was ever erased: no check
        self.by_smartflo_id: dict[str, int] = {}
        self.by_number: dict[str, int] = {}
        for pk, smartflo_id, number in Agent.objects.values_list("pk", "smartflo_id", "follow_me_number"):
            if smartflo_id:
                self.by_smartflo_id[smartflo_id] = pk
            if number:
                self.by_number[number] = pk
        self.calls_by_identifier: dict[str, int] = {}
        self.calls_by_call_id: dict[str, int] = {}
        self.call_outcomes: dict[int, int | None] = {}  # OutboundCall pk: disposition id
        self.inbound_outcomes: dict[str, int | None] = {}  # inbound call_id: disposition id

    def load_calls(self, records: list[ProviderRecord]) -> None:
        """The OutboundCalls of a page (by our custom identifier or call_id) and the outcomes of
        its calls, in at most two queries; inside the page's transaction (see outcomes.py)."""
        identifiers = {r.custom_identifier for r in records if _UUID.match(r.custom_identifier)}
        call_ids = {r.call_id for r in records if r.direction != "inbound"}  # we only place outbound calls
        inbound_call_ids = {r.call_id for r in records if r.direction == "inbound"}
        calls, self.inbound_outcomes = call_outcomes(
            identifiers=identifiers, call_ids=call_ids, inbound_call_ids=inbound_call_ids
        )
        self.calls_by_identifier, self.calls_by_call_id, self.call_outcomes = {}, {}, {}
        for pk, identifier, call_id, disposition_id in calls:
            self.calls_by_identifier[str(identifier)] = pk
            if call_id:
                self.calls_by_call_id[call_id] = pk
            self.call_outcomes[pk] = disposition_id

    def erasures_changed(self) -> bool:
        """Reload the erased numbers if one was erased since they were loaded (True then): an
        erasure made while a run walks its pages must not be undone by the pages still to come."""
        version = erased_numbers_version()
        if version == self.erased_version:
            return False
        self.erased_version = version
        self.erased_at = erased_number_lookup()
        return True

    def unwanted(self, record: ProviderRecord) -> bool:
        """Past CALL_RECORD_RETENTION_DAYS, or a call of an erased customer from before the erasure."""
        if self.keep_after is not None and record.started_at < self.keep_after:
            return True
        return self.erased(_phone(record.client_number), record.started_at)

    def erased(self, client_number: str, started_at: datetime) -> bool:
        if self.erased_at is None:
            return False
        erased = self.erased_at(client_number)
        return erased is not None and started_at <= erased

    def agent(self, record: ProviderRecord, agent_number: str) -> int | None:
        return self.by_smartflo_id.get(record.agent_id) or self.by_number.get(agent_number)

    def outbound_call(self, record: ProviderRecord) -> int | None:
        identifier = record.custom_identifier
        if identifier and _UUID.match(identifier):
            found = self.calls_by_identifier.get(str(uuid.UUID(identifier)))
            if found:
                return found
        return self.calls_by_call_id.get(record.call_id)

    def outcome(self, record: ProviderRecord, outbound_call_id: int | None) -> int | None:
        if outbound_call_id is not None:
            return self.call_outcomes.get(outbound_call_id)
        return self.inbound_outcomes.get(record.call_id)


def _store_page(
    owner: str,
    run: CallRecordSyncRun,
    records: tuple[ProviderRecord, ...],
    stored_versions: dict[str, int],
    links: _Links,
) -> int:
    """Upsert one page (one statement) under the lease; returns how many rows it wrote."""
    fresh: dict[str, ProviderRecord] = {}
    unwanted = 0
    for record in records:
        version = hash(record)
        if stored_versions.get(record.call_id) == version:
            continue  # repeated by Smartflo, unchanged: already stored by this window
        stored_versions[record.call_id] = version
        if record.started_at is None:  # counted as seen, but there is no time to file it under
            logger.warning("call record %s has no start time: skipped", record.call_id)
            continue
        if links.unwanted(record):  # counted as seen too: the window is complete without it
            unwanted += 1
            fresh.pop(record.call_id, None)
            continue
        fresh[record.call_id] = record  # a row repeated inside the page: the later copy wins
    if unwanted:
        logger.info("call records: %d not stored (past retention, or of an erased number)", unwanted)
    now = timezone.now()
    rows = []
    with transaction.atomic():
        _lease_renew(owner)  # waits for an erasure in progress: it locks this row (erasure.py)
        if fresh:  # the calls' outcomes are read under lock, in the transaction that stores them
            links.load_calls(list(fresh.values()))
            rows = [_row(record, links, now) for record in fresh.values()]
        if links.erasures_changed() and rows:
            rows = [row for row in rows if not links.erased(row["client_number"], row["started_at"])]
        if rows:
            _upsert(rows)
        run.pages += 1
        run.records_received += len(records)
        run.records_stored += len(rows)
        if time.monotonic() - getattr(run, "_progress_saved", 0.0) >= PROGRESS_SAVE_SECONDS:
            run._progress_saved = time.monotonic()  # the dashboard shows a running sync's counts
            CallRecordSyncRun.objects.filter(pk=run.pk).update(
                pages=run.pages, records_received=run.records_received, records_stored=run.records_stored
            )
    return len(rows)


@functools.lru_cache(maxsize=4096)
def _parse_phone(text: str) -> str:
    try:
        return to_e164(text, strict=False)  # as Smartflo recorded it
    except InvalidPhoneNumber:
        return text


def _phone(text: str) -> str:
    """E.164 when the number parses (fast paths for Smartflo's usual shapes), else as given."""
    if not text:
        return ""
    if text[0] == "+" and text[1:].isdigit() and 10 <= len(text) - 1 <= 15:
        return text
    if text.isdigit() and len(text) == 12 and text.startswith("91"):
        return "+" + text
    if text.isdigit() and len(text) == 10:
        return "+91" + text
    return _parse_phone(text)


def _row(record: ProviderRecord, links: _Links, now: datetime) -> dict[str, Any]:
    agent_number = _phone(record.agent_number)
    outbound_call_id = links.outbound_call(record)
    missed = [{"name": m.name, "number": _phone(m.number)} for m in record.missed_agents]
    return {
        "call_id": record.call_id,
        "provider_id": record.id,
        "uuid": record.uuid,
        "direction": record.direction,
        "status": record.status,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "call_duration": max(0, record.call_duration),
        "answered_seconds": max(0, record.answered_seconds),
        "minutes_consumed": max(0, record.minutes_consumed),
        "agent_id": links.agent(record, agent_number),
        "agent_smartflo_id": record.agent_id,
        "agent_name": record.agent_name,
        "agent_number": agent_number,
        "client_number": _phone(record.client_number),
        "did_number": _phone(record.did_number),
        "destination": record.destination,
        "hangup_cause": record.hangup_cause,
        "recording_url": record.recording_url,
        "dtmf_input": record.dtmf_input,
        "broadcast_id": record.broadcast_id,
        "services": ", ".join(record.services),
        "department": ", ".join(record.department),
        "missed_agents": missed or None,
        "notes": record.notes,
        "contact_name": record.contact_name,
        "custom_identifier": record.custom_identifier,
        "outbound_call_id": outbound_call_id,
        "disposition_id": links.outcome(record, outbound_call_id),
        "raw": record.raw,
        "first_synced_at": now,
        "synced_at": now,
    }


# --- The upsert ------------------------------------------------------------------------------

_INSERT_ONLY = frozenset({"call_id", "first_synced_at"})
_ALWAYS_REPLACE = frozenset({"started_at", "raw", "synced_at", "disposition"})  # disposition: read under lock


@dataclass(frozen=True)
class _UpsertPlan:
    """The statement for one backend, built once from the model's fields.

    PostgreSQL gets the page as one JSON document (`INSERT ... SELECT * FROM
    jsonb_to_recordset(%s)`): one parameter whatever the page's length, encoded by the C json
    module and parsed by the server, where thousands of placeholders or array parameters would
    cost more in the driver than the insert itself. SQLite gets a VALUES row per record, as many
    as its parameter limit allows (32,766 since SQLite 3.32: a 1000-row page is one statement).
    """

    columns: tuple[models.Field, ...]
    head: str
    tail: str
    as_json: bool
    converters: tuple[Callable[[Any], Any] | None, ...]
    max_lengths: tuple[int | None, ...]
    row_placeholder: str
    rows_per_statement: int


def _assignment(field: models.Field, table: str, qn: Callable[[str], str]) -> str:
    column = qn(field.column)
    new, old = f"EXCLUDED.{column}", f"{table}.{column}"
    if field.name in _ALWAYS_REPLACE:
        return f"{column} = {new}"
    if field.null:
        return f"{column} = COALESCE({new}, {old})"
    if isinstance(field, models.IntegerField):
        return f"{column} = COALESCE(NULLIF({new}, 0), {old})"
    if isinstance(field, models.CharField | models.TextField):
        return f"{column} = COALESCE(NULLIF({new}, ''), {old})"
    return f"{column} = {new}"


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    if isinstance(field, models.JSONField):
        return lambda value: None if value is None else field.get_db_prep_save(value, connection)
    if isinstance(field, models.DateTimeField):
        ops = connection.ops
        return lambda value: None if value is None else ops.adapt_datetimefield_value(value)
    return None  # str, int and None go to the driver as they are


@functools.cache
def _upsert_plan(alias: str, vendor: str) -> _UpsertPlan:
    qn = connection.ops.quote_name
    meta = CallRecord._meta
    table = qn(meta.db_table)
    columns = tuple(f for f in meta.concrete_fields if not f.primary_key)
    names = ", ".join(qn(f.column) for f in columns)
    updates = ", ".join(_assignment(f, table, qn) for f in columns if f.name not in _INSERT_ONLY)
    as_json = vendor == "postgresql"
    # identifiers come from the model and are quoted; every value is a bound parameter
    if as_json:
        shape = ", ".join(f"{qn(f.column)} {f.db_type(connection)}" for f in columns)
        head = f"INSERT INTO {table} ({names}) SELECT {names} FROM jsonb_to_recordset(%s::jsonb) AS r({shape})"  # noqa: S608
        rows_per_statement = 1_000_000
    else:
        head = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608
        connection.ensure_connection()
        limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if vendor == "sqlite" else 999
        rows_per_statement = max(1, limit // len(columns))
    return _UpsertPlan(
        columns=columns,
        head=head,
        tail=f" ON CONFLICT ({qn('call_id')}) DO UPDATE SET {updates}",
        as_json=as_json,
        converters=tuple(_converter(f) for f in columns),
        max_lengths=tuple(f.max_length if isinstance(f, models.CharField) else None for f in columns),
        row_placeholder="(" + ", ".join(["%s"] * len(columns)) + ")",
        rows_per_statement=rows_per_statement,
    )


def _upsert(rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT (call_id) DO UPDATE: one statement for a page of up to 1000 rows;
    blanks never erase known values (see _assignment)."""
    plan = _upsert_plan(connection.alias, connection.vendor)
    columns = [(f.attname, f.column, size) for f, size in zip(plan.columns, plan.max_lengths, strict=True)]
    with connection.cursor() as cursor:
        if plan.as_json:
            document = [{column: _clip(row[attname], size) for attname, column, size in columns} for row in rows]
            cursor.execute(plan.head + plan.tail, [json.dumps(document, default=_json_default)])
            return
        shape = list(zip(columns, plan.converters, strict=True))
        for first in range(0, len(rows), plan.rows_per_statement):
            batch = rows[first : first + plan.rows_per_statement]
            params = [
                convert(value) if convert is not None and value is not None else value
                for row in batch
                for (attname, _, size), convert in shape
                for value in (_clip(row[attname], size),)
            ]
            cursor.execute(plan.head + ", ".join([plan.row_placeholder] * len(batch)) + plan.tail, params)


def _clip(value: Any, max_length: int | None) -> Any:
    if max_length is not None and value and len(value) > max_length:
        return value[:max_length]
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in a call record")


# --- The lease (lock) and the watermark -----------------------------------------------------


def _lease_acquire(owner: str) -> bool:
    """Take the lease if it is free or expired (database clock: workers' clocks may differ)."""
    lease = timedelta(seconds=settings.CDR_SYNC_LEASE_SECONDS)
    taken = (
        CallRecordSyncState.objects.filter(name=SYNC_NAME)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=Now()))
        .update(lease_owner=owner, lease_expires_at=Now() + lease)
    )
    return taken == 1


def _lease_renew(owner: str) -> None:
    lease = timedelta(seconds=settings.CDR_SYNC_LEASE_SECONDS)
    renewed = CallRecordSyncState.objects.filter(name=SYNC_NAME, lease_owner=owner).update(
        lease_expires_at=Now() + lease
    )
    if not renewed:
        raise LeaseLost("another run took the call records sync lock; this run stopped writing")


def _lease_release(owner: str) -> None:
    try:
        CallRecordSyncState.objects.filter(name=SYNC_NAME, lease_owner=owner).update(
            lease_owner="", lease_expires_at=None
        )
    except Exception:  # the lease expires by itself; never hide the run's own error
        logger.exception("could not release the call records sync lock")


def _watermark_advance(owner: str, watermark: datetime) -> None:
    moved = CallRecordSyncState.objects.filter(name=SYNC_NAME, lease_owner=owner).update(watermark=watermark)
    if not moved:
        raise LeaseLost("another run took the call records sync lock before the watermark moved")


def _abandon_dead_runs() -> None:
    """Runs still marked running while we hold the lease died without finishing."""
    CallRecordSyncRun.objects.filter(status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, finished_at=timezone.now(), error="stopped without finishing (its lock expired)"
    )


def _fail(run: CallRecordSyncRun, exc: BaseException) -> None:
    message = str(exc) or exc.__class__.__name__
    logger.warning("call records sync %s failed after %d pages: %s", run.pk, run.pages, message)
    try:
        CallRecordSyncRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            finished_at=timezone.now(),
            error=f"{exc.__class__.__name__}: {message}"[:500],
            pages=run.pages,
            records_received=run.records_received,
            records_stored=run.records_stored,
        )
    except Exception:
        logger.exception("could not record the failed call records sync run %s", run.pk)


__all__ = [
    "LeaseLost",
    "SyncError",
    "SyncProgress",
    "WindowIncomplete",
    "call_records_sync",
]
