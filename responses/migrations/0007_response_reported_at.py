"""The incident's report time on its response (the approvals queue's order, served by the
partial index ``response_waiting``): added, filled from the incidents, then required."""

from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery


def fill(apps, schema_editor):
    Response = apps.get_model("responses", "Response")
    Incident = apps.get_model("incidents", "Incident")
    Response.objects.using(schema_editor.connection.alias).update(
        reported_at=Subquery(Incident.objects.filter(pk=OuterRef("incident_id")).values("reported_at")[:1]))


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0012_incident_state_newest"),
        ("responses", "0006_response_running_level"),
    ]

    operations = [
        migrations.AddField(
            model_name="response",
            name="reported_at",
            field=models.DateTimeField(editable=False, null=True, verbose_name="事件登记时间"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="response",
            name="reported_at",
            field=models.DateTimeField(editable=False, verbose_name="事件登记时间"),
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(condition=Q(("proposal__isnull", False), ("state", "lift_proposed"), _connector="OR"),
                               fields=["reported_at", "incident"], name="response_waiting"),
        ),
    ]
