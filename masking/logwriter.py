"""Resolution log rows written in batches by a background thread of each server process.

Writing the row for each answer costs the resolve endpoint about as much CPU as answering (a
round trip and a commit, which waits for PostgreSQL to flush its WAL). With
`MASKING_LOG_FLUSH_SECONDS` > 0 the endpoint only hands the row to this writer; a daemon thread
inserts what has gathered every `MASKING_LOG_FLUSH_SECONDS` (sooner once `BATCH_SIZE` rows
wait), in one transaction on its own connection.

What this trades, and how little: rows wait in memory for at most the flush interval (0.2 s by
default). A clean exit (gunicorn's graceful restart, SIGTERM) writes them first (`atexit`); a
process killed outright (SIGKILL, out of memory) loses the rows of its last interval. A failed
write keeps its rows and retries; while the database is away the rows wait, up to
`MAX_PENDING`, beyond which the oldest are dropped and the count is logged. With
`MASKING_LOG_FLUSH_SECONDS = 0` every row is written before the request ends, as before.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import deque
from typing import Any

from django.db import InterfaceError, OperationalError, close_old_connections, connection, transaction

from masking.hotpath import resolution_log_insert, resolution_log_insert_many

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
MAX_PENDING = 50_000
#: After a failed write, wait this long (doubling up to the cap) before trying again.
RETRY_SECONDS = (0.5, 30.0)
#: Errors that mean the database cannot be reached (the rows wait), not that it refused the rows.
UNREACHABLE = (OperationalError, InterfaceError)


class ResolutionLogWriter:
    """Gathers rows and writes them in batches from a daemon thread (one per process)."""

    def __init__(self, flush_seconds: float) -> None:
        self.flush_seconds = flush_seconds
        self._reset()
        atexit.register(self.close)
        if hasattr(os, "register_at_fork"):
            # A forked child inherits the rows and the lock but not the thread: it starts clean.
            os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending: deque[dict[str, Any]] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._retry_delay = 0.0
        self.dropped = 0
        self.written = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(self, values: dict[str, Any]) -> None:
        """Queue one row (LOG_FIELDS); never blocks on the database."""
        with self._lock:
            if len(self._pending) >= MAX_PENDING:
                self._pending.popleft()
                self.dropped += 1
            self._pending.append(values)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="resolution-log-writer", daemon=True)
                self._thread.start()
            if len(self._pending) >= BATCH_SIZE and not self._retry_delay:
                self._wake.set()  # a full batch goes now, unless the writer is backing off

    def flush(self) -> int:
        """Write every waiting row now, in batches; returns how many were written.

        When the database is unreachable (OperationalError, InterfaceError) the batch goes back
        to the front of the queue and the error is raised: the thread retries later. Any other
        error is the rows' own (a value the database refuses): the batch is then written row by
        row and the rows that still fail are dropped and counted, so one bad row never blocks
        the log.
        """
        written = 0
        with self._flush_lock:
            close_old_connections()  # this thread's connection: past CONN_MAX_AGE, or broken
            while True:
                with self._lock:
                    batch = [self._pending.popleft() for _ in range(min(BATCH_SIZE, len(self._pending)))]
                    dropped, self.dropped = self.dropped, 0
                if dropped:
                    logger.error("masking resolution log: %s rows dropped (the queue was full)", dropped)
                if not batch:
                    return written
                try:
                    with transaction.atomic():
                        resolution_log_insert_many(batch)
                except UNREACHABLE:
                    self._put_back(batch)
                    raise
                except Exception:
                    stored = self._write_one_by_one(batch)
                else:
                    stored = len(batch)
                written += stored
                self.written += stored

    def _write_one_by_one(self, batch: list[dict[str, Any]]) -> int:
        stored = refused = 0
        for position, row in enumerate(batch):
            try:
                with transaction.atomic():
                    resolution_log_insert_many([row])
            except UNREACHABLE:
                self._put_back(batch[position:])
                raise
            except Exception as exc:
                refused += 1
                error = type(exc).__name__  # not the message: it may quote the row's numbers
            else:
                stored += 1
        if refused:
            logger.error("masking resolution log: %s rows refused by the database (%s) and dropped", refused, error)
        return stored

    def _put_back(self, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._pending.extendleft(reversed(rows))
            while len(self._pending) > MAX_PENDING:
                self._pending.popleft()
                self.dropped += 1
        connection.close()  # a fresh connection for the next attempt

    def _run(self) -> None:
        last_traceback = float("-inf")
        while not self._closed:
            if self._retry_delay:
                # Backing off: a full queue must not wake the thread early (it would hammer a
                # database that is down); only close() does.
                self._stop.wait(self._retry_delay)
            else:
                self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                first, cap = RETRY_SECONDS
                self._retry_delay = min(cap, max(first, self._retry_delay * 2))
                now = time.monotonic()
                logger.error(
                    "masking resolution log: the database is unreachable; %s rows wait, retrying in %.1fs",
                    self.pending,
                    self._retry_delay,
                    exc_info=now - last_traceback >= 60,  # one traceback a minute at most
                )
                if now - last_traceback >= 60:
                    last_traceback = now
            else:
                self._retry_delay = 0.0

    def close(self) -> None:
        """Write what waits (at exit); never raises."""
        self._closed = True
        self._stop.set()
        self._wake.set()
        try:
            self.flush()
        except Exception:
            logger.exception("masking resolution log: %s rows could not be written at exit", self.pending)


_writer: ResolutionLogWriter | None = None
_writer_lock = threading.Lock()


def writer(flush_seconds: float) -> ResolutionLogWriter:
    """The process's writer (created on first use)."""
    global _writer
    if _writer is None:
        with _writer_lock:
            if _writer is None:
                _writer = ResolutionLogWriter(flush_seconds)
    _writer.flush_seconds = flush_seconds
    return _writer


def resolution_log_write(values: dict[str, Any], *, flush_seconds: float) -> None:
    """Write the row now (flush_seconds <= 0) or hand it to the batch writer."""
    if flush_seconds <= 0:
        resolution_log_insert(values)
    else:
        writer(flush_seconds).submit(values)
