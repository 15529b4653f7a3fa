"""Transaction-scoped advisory locks on names, for writers that must take turns on something no
single row stands for (a phone number being allowed or refused, an OTP client's send window).

PostgreSQL: `pg_advisory_xact_lock` on a 64-bit hash of `contactcenter.<namespace>:<key>`, the
keys taken in sorted order, so two writers taking overlapping sets never wait on each other in a
cycle; a key the transaction holds already is taken again at once. Every other database: nothing,
since the project opens every SQLite transaction with BEGIN IMMEDIATE, which serialises writers.
Released when the transaction ends.
"""

from __future__ import annotations

import hashlib

from django.db import transaction


def advisory_xact_locks(namespace: str, *keys: str) -> None:
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in sorted(set(keys)):
            digest = hashlib.sha256(f"contactcenter.{namespace}:{key}".encode()).digest()[:8]
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])
