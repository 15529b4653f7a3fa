"""CallRecord.disposition: the agents' outcome of each call, copied from its wrap-up, for the
dashboard's outcome filter, column and chart. The column is added empty (instant on PostgreSQL),
filled from the wrap-ups saved so far, and indexed concurrently (contactcenter/db/operations.py):
syncs and the dashboard keep using the table meanwhile."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from calls.services.outcomes import inbound_outcome
from contactcenter.db.operations import AddIndexOnline

BATCH = 1000


def copy_outcomes(apps, schema_editor):
    CallRecord = apps.get_model("calls", "CallRecord")
    OutboundCall = apps.get_model("calls", "OutboundCall")
    RingingAlert = apps.get_model("calls", "RingingAlert")
    # Our calls: one statement.
    CallRecord.objects.filter(outbound_call__disposition__isnull=False).update(
        disposition_id=Subquery(OutboundCall.objects.filter(pk=OuterRef("outbound_call_id")).values("disposition_id"))
    )
    # Inbound calls: the outcome of the agent who had the call last (the rule the app keeps).
    alerts = {}
    noted = RingingAlert.objects.filter(disposition__isnull=False).values_list("call_id")
    rows = (
        RingingAlert.objects.filter(call_id__in=noted)
        .order_by("call_id", "id")
        .values_list("call_id", "disposition_id", "transferred_to_id", "answered_at", "id")
    )
    for call_id, *alert in rows.iterator(chunk_size=BATCH):
        alerts.setdefault(call_id, []).append(tuple(alert))
    by_disposition = {}
    for call_id, of_call in alerts.items():
        by_disposition.setdefault(inbound_outcome(of_call), []).append(call_id)
    for disposition_id, call_ids in by_disposition.items():
        for first in range(0, len(call_ids), BATCH):
            CallRecord.objects.filter(call_id__in=call_ids[first : first + BATCH], outbound_call__isnull=True).update(
                disposition_id=disposition_id
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("calls", "0009_ringingalert_call_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="callrecord",
            name="disposition",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=models.deletion.SET_NULL,
                related_name="+",
                to="calls.disposition",
            ),
        ),
        migrations.RunPython(copy_outcomes, migrations.RunPython.noop, atomic=True),
        AddIndexOnline(
            model_name="callrecord",
            index=models.Index(fields=["disposition", "started_at"], name="callrecord_disposition"),
        ),
    ]
