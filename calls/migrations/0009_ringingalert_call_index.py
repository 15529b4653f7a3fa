"""An index on RingingAlert.call_id: every call event looks up the call's rows by it, and the
records export finds the agents' notes of inbound calls by it. Built concurrently on PostgreSQL
(contactcenter/db/operations.py): the pop-up poll and call events keep using the table."""

from django.db import migrations, models

from contactcenter.db.operations import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("calls", "0008_ringingalert_wrap_up"),
    ]

    operations = [
        AddIndexOnline(
            model_name="ringingalert",
            index=models.Index(fields=["call_id"], name="ringingalert_call"),
        ),
    ]
