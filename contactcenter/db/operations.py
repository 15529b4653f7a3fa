"""Migration operations for tables that are big and busy when the migration runs.

`AddIndexOnline` is Django's `AddIndex`, built `CONCURRENTLY` on PostgreSQL: a plain
`CREATE INDEX` holds a lock that blocks every write to the table until the index is built
(minutes for millions of call records: the sync, webhooks and new calls would wait). The
migration must say `atomic = False` (PostgreSQL builds concurrently only outside a transaction).
A build that was interrupted leaves an invalid index behind; running the migration again drops
it first (the migration was not recorded, so an index of that name can only be such a leftover).
On other databases it is Django's `AddIndex`. The model state is the same either way, so the
operation can replace an `AddIndex` in a migration that some databases have already applied.
"""

from __future__ import annotations

from django.db import NotSupportedError, migrations


class AddIndexOnline(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return None
        _check_outside_transaction(schema_editor)
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(self.index.name)}")
        schema_editor.add_index(model, self.index, concurrently=True)
        return None

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return None
        _check_outside_transaction(schema_editor)
        schema_editor.remove_index(model, self.index, concurrently=True)
        return None

    def describe(self) -> str:
        return super().describe() + " (concurrently on PostgreSQL)"


def _check_outside_transaction(schema_editor) -> None:
    if schema_editor.connection.in_atomic_block:
        raise NotSupportedError("AddIndexOnline builds concurrently: set `atomic = False` on the migration.")
