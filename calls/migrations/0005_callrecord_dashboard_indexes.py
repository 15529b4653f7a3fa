"""Indexes for the call records dashboard (docs/call-records.md, "Performance").

- (status, started_at) and (agent, status, started_at): missed (or answered) calls, everyone's or
  an agent's, counted from the index alone (built concurrently on PostgreSQL, like the two below).
- PostgreSQL only, for the two filters that scanned the date range: a trigram GIN index for a
  few digits of the customer's number, and (hour of day, started_at, id) for the hour a chart
  click sets. They live outside Django's model state (see CallRecord.Meta): SQLite has neither
  GIN nor pg_trgm, and the hour is taken in the display zone (TIME_ZONE), which Meta cannot
  depend on. On SQLite both filters still work, by scanning. They are built CONCURRENTLY, so a
  sync can keep writing while a big table is indexed (hence `atomic = False`); a half-built index
  left by an interrupted run is dropped and built again.
"""

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models import F, Index
from django.db.models.functions import ExtractHour

from contactcenter.db.operations import AddIndexOnline

NAMES = ("callrecord_hour_started", "callrecord_client_trgm")


def search_indexes() -> list[Index]:
    return [
        # Django's own expression for `started_at__hour` in the display zone, so the planner matches
        # it. A deployment that changes TIME_ZONE should rebuild it (this migration backwards and
        # forwards); until then the hour filter works, by scanning.
        Index(ExtractHour("started_at", tzinfo=ZoneInfo(settings.TIME_ZONE)), F("started_at"), F("id"), name=NAMES[0]),
        # `client_number LIKE '%digits%'`: three digits or more make trigrams to look up.
        GinIndex(fields=["client_number"], opclasses=["gin_trgm_ops"], name=NAMES[1]),
    ]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    drop_indexes(apps, schema_editor)  # what an interrupted run may have left half-built
    record = apps.get_model("calls", "CallRecord")
    for index in search_indexes():
        schema_editor.add_index(record, index, concurrently=True)
    schema_editor.execute("ANALYZE calls_callrecord")  # statistics for the hour expression


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in NAMES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """Django's TrigramExtension does nothing on other databases going forwards, but going
    backwards it asks pg_extension whatever the database."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("calls", "0004_one_original_per_event"),
    ]

    operations = [
        AddIndexOnline(
            model_name="callrecord",
            index=models.Index(fields=["status", "started_at"], name="callrecord_status_started"),
        ),
        AddIndexOnline(
            model_name="callrecord",
            index=models.Index(fields=["agent", "status", "started_at"], name="callrecord_agent_status"),
        ),
        TrigramExtensionOnPostgreSQL(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
