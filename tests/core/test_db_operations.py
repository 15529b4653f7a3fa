"""AddIndexOnline (contactcenter/db/operations.py): indexes on busy tables are built
concurrently on PostgreSQL, a half-built one is replaced, and other databases get AddIndex."""

from __future__ import annotations

import pytest
from django.db import NotSupportedError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Index

from contactcenter.db.operations import AddIndexOnline

pytestmark = pytest.mark.django_db(transaction=True)

RETENTION = ("calls", "0006_retention_indexes")
BEFORE = ("calls", "0005_callrecord_dashboard_indexes")
NAMES = ("idempotentrequest_created", "outboundcall_requested", "ringingalert_started")


def migrate(target: tuple[str, str]) -> list[str]:
    """Migrate the calls app to `target`; the SQL it ran."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    executor = MigrationExecutor(connection)
    with connection.execute_wrapper(record):
        executor.migrate([target])
    return statements


def indexes() -> set[str]:
    with connection.cursor() as cursor:
        found = set()
        for table in ("calls_idempotentrequest", "calls_outboundcall", "calls_ringingalert"):
            found |= set(connection.introspection.get_constraints(cursor, table))
    return found & set(NAMES)


def test_the_retention_indexes_come_and_go_with_their_migration_concurrently_on_postgresql():
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes("calls")[0]
    try:
        down = migrate(BEFORE)
        assert indexes() == set()
        if connection.vendor == "postgresql":
            # An interrupted concurrent build leaves an (invalid) index behind: the next run replaces it.
            with connection.cursor() as cursor:
                cursor.execute("CREATE INDEX outboundcall_requested ON calls_outboundcall (requested_at)")
        up = migrate(RETENTION)
        assert indexes() == set(NAMES)
    finally:
        migrate(leaf)
    creates = [s for s in up if s.upper().startswith("CREATE INDEX")]
    drops = [s for s in down if s.upper().startswith("DROP INDEX") and any(f'"{name}"' in s for name in NAMES)]
    assert len(creates) == 3 and len(drops) == 3
    if connection.vendor == "postgresql":
        assert all("CONCURRENTLY" in s for s in creates + drops)
        assert any(s.startswith('DROP INDEX CONCURRENTLY IF EXISTS "outboundcall_requested"') for s in up)
    else:
        assert not any("CONCURRENTLY" in s for s in creates + drops)


def test_inside_a_transaction_it_refuses_on_postgresql_and_is_addindex_elsewhere():
    operation = AddIndexOnline(model_name="outboundcall", index=Index(fields=["status"], name="test_online"))
    state = MigrationExecutor(connection).loader.project_state()
    new = state.clone()
    operation.state_forwards("calls", new)
    if connection.vendor == "postgresql":
        with connection.schema_editor(atomic=True) as editor, pytest.raises(NotSupportedError, match="atomic = False"):
            operation.database_forwards("calls", editor, state, new)
        return
    with connection.schema_editor(atomic=True) as editor:
        operation.database_forwards("calls", editor, state, new)
    with connection.cursor() as cursor:
        assert "test_online" in connection.introspection.get_constraints(cursor, "calls_outboundcall")
    with connection.schema_editor(atomic=True) as editor:
        operation.database_backwards("calls", editor, new, state)


def test_the_inbound_wrap_up_migration_locks_no_busy_table_while_indexing():
    """0008 adds the note's disposition without an inline index (a plain CREATE INDEX would block
    the pop-up poll and call events on PostgreSQL) and builds its two indexes concurrently."""
    leaf = MigrationExecutor(connection).loader.graph.leaf_nodes("calls")[0]
    names = {"ringingalert_disposition", "ringingalert_caller"}

    def present() -> set[str]:
        with connection.cursor() as cursor:
            return set(connection.introspection.get_constraints(cursor, "calls_ringingalert")) & names

    try:
        migrate(("calls", "0007_ringingalert_answered_ended"))
        assert present() == set()
        up = migrate(("calls", "0008_ringingalert_wrap_up"))
        assert present() == names
    finally:
        migrate(leaf)
    if connection.vendor == "postgresql":
        creates = [s for s in up if s.upper().startswith("CREATE INDEX")]
        assert len(creates) == 2 and all(s.startswith("CREATE INDEX CONCURRENTLY") for s in creates), creates
