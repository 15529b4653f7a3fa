"""The two statements of the resolve endpoint, as SQL written once from the models' metadata.

The endpoint is the hot path of every masked call (see bench/masking_resolve.py), and there the
ORM costs more CPU than the database: built as QuerySets, the lookup took about 0.6 ms of CPU and
the insert 0.3 ms; as these ready-made strings, about 0.1 ms each. Table and column names come
from `_meta`, every value is a bound parameter, and datetimes go through the backend's own
adaptation, so the statements are right on PostgreSQL and SQLite alike (the test suite runs them
on both). Everything else in the app uses the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from masking.models import MaskingRoute, ResolutionLog

LOG_FIELDS = (
    "created_at",
    "method",
    "call_id",
    "uuid",
    "caller",
    "dialled_number",
    "outcome",
    "answer",
    "fallback",
    "status_code",
    "matched_rule",
    "latency_ms",
)


def _column(model: type, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _route_sql(vendor: str) -> str:
    route = MaskingRoute
    valid_from, valid_until = _column(route, "valid_from"), _column(route, "valid_until")
    # One row of one table, by its unique (masking number, caller) index. The window is compared
    # in SQL, so no datetime is read back (and converted). Identifiers come from model metadata;
    # every value is a bound parameter.
    return (
        f"SELECT {_column(route, 'callee')}, {_column(route, 'rule')}, {_column(route, 'number_active')}, "  # noqa: S608
        f"CASE WHEN {valid_from} IS NULL OR {valid_from} <= %s THEN 1 ELSE 0 END, "
        f"CASE WHEN {valid_until} IS NULL OR {valid_until} > %s THEN 1 ELSE 0 END "
        f"FROM {_table(route)} "
        f"WHERE {_column(route, 'masking_number')} = %s AND {_column(route, 'caller')} = %s"
    )


@functools.cache
def _log_sql(vendor: str) -> str:
    columns = ", ".join(_column(ResolutionLog, name) for name in LOG_FIELDS)
    placeholders = ", ".join(["%s"] * len(LOG_FIELDS))
    return f"INSERT INTO {_table(ResolutionLog)} ({columns}) VALUES ({placeholders})"  # noqa: S608


def _lookup_cursor(db: BaseDatabaseWrapper):
    """A cursor for the lookup. On PostgreSQL one that binds parameters on the server, so that
    psycopg prepares the statement after a few runs (its `prepare_threshold`) and PostgreSQL
    stops parsing and planning it for every call: 70 µs of server CPU per lookup became 23, and
    the client's share fell by a third. Django's own PostgreSQL cursors bind on the client and
    never prepare. It is wrapped like any Django cursor (health check, error translation, query
    logging), and MASKING_PREPARED_LOOKUP=0 turns it off (for a pooler that cannot carry
    prepared statements: PgBouncer before 1.21 in transaction mode).
    """
    if db.vendor != "postgresql" or not getattr(settings, "MASKING_PREPARED_LOOKUP", True):
        return db.cursor()
    db.close_if_health_check_failed()
    db.ensure_connection()
    with db.wrap_database_errors:
        cursor = psycopg.Cursor(db.connection)
    return db.make_debug_cursor(cursor) if db.queries_logged else db.make_cursor(cursor)


def route_lookup(*, masking_number: str, caller: str, at: datetime) -> tuple[str, int, bool, bool, bool] | None:
    """(callee, rule_id, number_active, window_started, window_not_ended) for the one route of
    (number, caller), or None. The unique (number, caller) constraint means one row at most."""
    # The thread's wrapper, looked up once: each attribute read through django.db.connection
    # costs a trip through the thread-local connection registry.
    db = connections[DEFAULT_DB_ALIAS]
    moment = db.ops.adapt_datetimefield_value(at)
    with _lookup_cursor(db) as cursor:
        cursor.execute(_route_sql(db.vendor), [moment, moment, masking_number, caller])
        row = cursor.fetchone()
    if row is None:
        return None
    callee, rule_id, active, started, not_ended = row
    return callee, rule_id, bool(active), bool(started), bool(not_ended)


def _log_params(values: dict[str, Any], adapt: Callable[[Any], Any]) -> list[Any]:
    """One row's values in LOG_FIELDS order, its time adapted by the backend."""
    params = [values[name] for name in LOG_FIELDS]
    params[0] = adapt(params[0])
    return params


def resolution_log_insert(values: dict[str, Any]) -> None:
    """One ResolutionLog row; `values` holds LOG_FIELDS (matched_rule as an id or None)."""
    with connection.cursor() as cursor:
        cursor.execute(_log_sql(connection.vendor), _log_params(values, connection.ops.adapt_datetimefield_value))


def resolution_log_insert_many(rows: list[dict[str, Any]]) -> None:
    """Many ResolutionLog rows at once: on PostgreSQL by COPY (7 µs of client CPU a row, where
    `executemany` took 26), elsewhere by `executemany`. Errors come out as Django's database
    errors either way (the batch writer tells "unreachable" from "refused" by them)."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":
        with db.cursor() as cursor, db.wrap_database_errors, cursor.cursor.copy(_log_copy_sql()) as copy:
            for values in rows:
                copy.write_row([values[name] for name in LOG_FIELDS])
        return
    adapt = db.ops.adapt_datetimefield_value
    with db.cursor() as cursor:
        cursor.executemany(_log_sql(db.vendor), [_log_params(values, adapt) for values in rows])


@functools.cache
def _log_copy_sql() -> str:
    columns = ", ".join(_column(ResolutionLog, name) for name in LOG_FIELDS)
    return f"COPY {_table(ResolutionLog)} ({columns}) FROM STDIN"
