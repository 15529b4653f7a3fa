"""Django's PostgreSQL backend, with a health check that needs no round trip when all is well.

With `CONN_HEALTH_CHECKS`, Django checks a persistent connection before its first use in each
request by running `SELECT 1`: one round trip more per request, which on the masking resolve
endpoint (one query of its own) was a third of its database work. A connection that a restarted
or vanished server dropped has something to read on its socket: the server's "terminating
connection" message, or the end of the stream. So this check first polls the socket without
waiting; only when there is something to read (or the connection is not idle) does it fall back
to Django's `SELECT 1`, which then fails and makes Django reconnect.

A peer that vanished without a word (a failover that moved the address, a firewall that forgot
the connection) leaves nothing to read, and only a round trip finds out. So a connection that
has not had a full check for `FULL_CHECK_SECONDS` gets Django's `SELECT 1` anyway: an idle
connection is checked properly before it is used again, a busy one at most every few seconds.
"""

from __future__ import annotations

import select
import time

from django.db.backends.postgresql import base
from psycopg import pq

FULL_CHECK_SECONDS = 5.0


class DatabaseWrapper(base.DatabaseWrapper):
    _full_check_at = float("-inf")

    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        now = time.monotonic()
        if pgconn.transaction_status == pq.TransactionStatus.IDLE and now - self._full_check_at < FULL_CHECK_SECONDS:
            poller = select.poll()  # not select.select: it cannot watch descriptors above 1023
            poller.register(pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
            if not poller.poll(0):
                return True
        usable = super().is_usable()
        if usable:
            self._full_check_at = now
        return usable

    def connect(self) -> None:
        super().connect()
        self._full_check_at = time.monotonic()  # a new connection is known good
