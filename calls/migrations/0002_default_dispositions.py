from django.db import migrations

DEFAULTS = ("Interested", "Not interested", "Call back later", "Wrong number", "Resolved", "Escalated")


def add_defaults(apps, schema_editor):
    Disposition = apps.get_model("calls", "Disposition")
    for position, label in enumerate(DEFAULTS):
        Disposition.objects.get_or_create(label=label, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
