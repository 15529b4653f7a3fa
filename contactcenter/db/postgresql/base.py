"""Django's PostgreSQL backend, with a health check that needs no round trip when all is well.

With `CONN_HEALTH_CHECKS`, Django checks a persistent connection before its first use in each
request by running `SELECT 1`: one round trip more per request, which on the masking resolve
endpoint (one query of its own) was a third of its database work. A connection that a restarted
or vanished server dropped has something to read on its socket: the server's "terminating
connection" message, or the end of the stream. So this check first polls the socket without
waiting; only when there is something to read (or the connection is not idle) does it fall back
to Django's `SELECT 1`, which then fails and makes Django reconnect. A silently dead peer (no
FIN, no reset) passes the poll as it would hang `SELECT 1` until the TCP timeout.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        pgconn = connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status == pq.TransactionStatus.IDLE:
            try:
                readable, _, _ = select.select([pgconn.socket], [], [], 0)
            except (OSError, ValueError):
                return False
            if not readable:
                return True
        return super().is_usable()
